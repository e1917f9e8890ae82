"""The app's one door to the rule engine: load / validate rule files, select rules, describe them.

Kept in one module so that the rest of the app does not depend on the engine's internal layout,
and so that a build without the engine fails with one clear line instead of an ImportError."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tercel.app.config import Config
from tercel.app.errors import AppError, Unavailable


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
    return rules


def _check_readable(files: Iterable[str]) -> None:
    for f in files:
        if not os.path.isfile(f) or not os.access(f, os.R_OK):
            raise AppError(f"Could not open file {f} for reading")


def _contents(results: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in results:
        out.update(getattr(r, "contents", None) or {})
    return out


def _hostname() -> str:
    """TERCEL_HOSTNAME, FALCO_HOSTNAME, else the host name: what alerts carry (as Falco does)."""
    from tercel.outputs.build import resolve_hostname

    return resolve_hostname()


def rule_files(paths: list[str]) -> list[str]:
    """The files to read, in order: a directory stands for its .yaml/.yml files (alphabetical)."""
    files: list[str] = _rules_module().rule_files(paths)
    return files


def validate_files(files: list[str], cfg: Config) -> Loaded:
    """Every file into one engine, in order (Falco's -V); the ruleset is built only when all are valid."""
    rules = _rules_module()
    files = rule_files(files)
    _check_readable(files)
    loader = rules.RuleLoader()
    results = [loader.load_file(f) for f in files]
    ruleset = None
    if all(r.successful for r in results):
        ruleset = loader.ruleset(min_priority=cfg.min_priority, rule_matching=cfg.rule_matching,
                                 selectors=cfg.get("rules") or [], hostname=_hostname())
    return Loaded(ruleset, results, _contents(results))


def load_rules(files: list[str], cfg: Config) -> Loaded:
    _check_readable(files)
    rules = _rules_module()
    ruleset, results = rules.load_rules(files, min_priority=cfg.min_priority, rule_matching=cfg.rule_matching,
                                        selectors=cfg.get("rules") or [], hostname=_hostname())
    return Loaded(ruleset, list(results), _contents(results))


def apply_selection(ruleset: Any, cfg: Config, *, disable_substr: list[str], enable_tags: list[str],
                    disable_tags: list[str]) -> None:
    """The removed -D/-t/-T flags, after the config's ``rules:`` selectors (applied at load) and
    ``priority`` (rules below it are not loaded), as Falco 0.35-0.41 applied them."""
    for sub in disable_substr:
        ruleset.disable_substring(sub)
    if disable_tags:
        ruleset.disable_tags(disable_tags)
    if enable_tags:
        ruleset.only_tags(enable_tags)
