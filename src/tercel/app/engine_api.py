"""The app's one door to the rule engine: load / validate rule files, select rules, describe them.

Kept in one module so that the rest of the app does not depend on the engine's internal layout,
and so that a build without the engine fails with one clear line instead of an ImportError."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tercel.app.config import Config
from tercel.app.errors import AppError, Unavailable
from tercel.engine.priority import Priority


@dataclass
class Loaded:
    ruleset: Any | None
    results: list[Any]  # engine.rules.results.LoadResult
    contents: dict[str, str] = field(default_factory=dict)

    @property
    def successful(self) -> bool:
        return all(r.successful for r in self.results)


def _rules_module() -> Any:
    try:
        import tercel.engine.rules as rules
    except ImportError as exc:  # pragma: no cover - only in partial builds
        raise Unavailable(f"the rule engine is not available in this build ({exc})") from None
    if not hasattr(rules, "load_rules"):
        raise Unavailable("the rule engine (tercel.engine.rules.load_rules) is not available in this build yet")
    return rules


def _check_readable(files: Iterable[str]) -> None:
    for f in files:
        if not os.path.isfile(f) or not os.access(f, os.R_OK):
            raise AppError(f"Could not open file {f} for reading")


def _contents(results: list[Any]) -> dict[str, str]:
    return {r.name: r.content for r in results if getattr(r, "content", None) is not None}


def _load(files: list[str], cfg: Config) -> Loaded:
    rules = _rules_module()
    kwargs: dict[str, Any] = {}
    try:
        import inspect

        params = inspect.signature(rules.load_rules).parameters
    except (TypeError, ValueError):  # pragma: no cover
        params = {}  # type: ignore[assignment]
    if "min_priority" in params:
        kwargs["min_priority"] = cfg.min_priority
    if "rule_matching" in params:
        kwargs["rule_matching"] = cfg.rule_matching
    out = rules.load_rules(list(files), **kwargs)
    ruleset, results = out[0], list(out[1])
    return Loaded(ruleset, results, _contents(results))


def validate_files(files: list[str], cfg: Config) -> Loaded:
    _check_readable(files)
    rules = _rules_module()
    if hasattr(rules, "validate_files"):
        out = rules.validate_files(list(files))
        if isinstance(out, tuple):
            ruleset, results = out[0], list(out[1])
        else:
            ruleset, results = None, list(out)
        return Loaded(ruleset, results, _contents(results))
    return _load(files, cfg)


def load_rules(files: list[str], cfg: Config) -> Loaded:
    _check_readable(files)
    return _load(files, cfg)


# ---------------------------------------------------------------- rule objects


def rules_of(ruleset: Any) -> list[Any]:
    """Every rule of the ruleset, in definition order."""
    for name in ("rules", "all_rules"):
        val = getattr(ruleset, name, None)
        if callable(val):
            val = val()
        if val is not None:
            return list(val.values()) if isinstance(val, dict) else list(val)
    raise Unavailable("the ruleset does not list its rules")


def rule_attr(rule: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if hasattr(rule, n):
            return getattr(rule, n)
    return default


def priority_of(rule: Any) -> Priority:
    p = rule_attr(rule, "priority")
    return p if isinstance(p, Priority) else Priority.parse(str(p))


def set_enabled(ruleset: Any, rule: Any, enabled: bool) -> None:
    name = rule_attr(rule, "name")
    for meth in ("enable_rule", "set_enabled"):
        fn = getattr(ruleset, meth, None)
        if callable(fn):
            fn(name, enabled)
            return
    rule.enabled = enabled


def finish_selection(ruleset: Any) -> None:
    for meth in ("reindex", "rebuild_index", "complete"):
        fn = getattr(ruleset, meth, None)
        if callable(fn):
            fn()
            return


def apply_selection(ruleset: Any, cfg: Config, *, disable_substr: list[str], enable_tags: list[str],
                    disable_tags: list[str]) -> None:
    """``rules:`` selectors of the config, then the removed -D/-t/-T flags, then ``priority``:
    what Falco 0.35-0.44 did in load_rules_files."""
    rules = rules_of(ruleset)
    for sel in cfg.get("rules", []) or []:
        op = "enable" if "enable" in sel else "disable"
        target = sel[op]
        pattern = target.get("rule")
        tag = target.get("tag")
        for r in rules:
            tags = set(rule_attr(r, "tags", default=()) or ())
            if (pattern is not None and fnmatch.fnmatchcase(rule_attr(r, "name"), pattern)) or (
                tag is not None and tag in tags
            ):
                set_enabled(ruleset, r, op == "enable")
    for sub in disable_substr:
        for r in rules:
            if sub in rule_attr(r, "name"):
                set_enabled(ruleset, r, False)
    if enable_tags:
        wanted = set(enable_tags)
        for r in rules:
            if not wanted & set(rule_attr(r, "tags", default=()) or ()):
                set_enabled(ruleset, r, False)
    for t in disable_tags:
        for r in rules:
            if t in set(rule_attr(r, "tags", default=()) or ()):
                set_enabled(ruleset, r, False)
    threshold = cfg.min_priority
    for r in rules:
        if priority_of(r) > threshold:  # larger number = less severe
            set_enabled(ruleset, r, False)
    finish_selection(ruleset)


def is_enabled(rule: Any) -> bool:
    return bool(rule_attr(rule, "enabled", default=True))
