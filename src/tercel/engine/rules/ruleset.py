"""The loaded, enabled rules and their event-type index: what runs for every event.

``process(evt)`` costs one dict lookup (on the event's type code) when no rule wants the event.
Only exit events and non-syscall events (meta, tracepoint, plugin) reach rules: enter events
never do, as in Falco 0.44 where the converter merges them into their exits.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tercel.engine.alert import Alert
from tercel.engine.priority import Priority
from tercel.engine.rules.compiler import CompiledRule, CompileOutput

_MISS = object()
_BY_NAME = object()  # the type code's name varies per event (generic syscall events)
EC_SYSCALL = 1 << 10  # libs' event category flag


@dataclass(frozen=True, slots=True)
class Selector:
    """One ``rules:`` entry of falco.yaml: enable or disable by rule name (``*`` wildcard) or tag."""

    enable: bool
    rule: str | None = None
    tag: str | None = None

    @staticmethod
    def parse(entry: dict[str, Any]) -> Selector:
        """From ``{"enable": {"rule": "x"}}`` / ``{"disable": {"tag": "y"}}``; ValueError when malformed."""
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValueError("a rules selector is a map with one key, 'enable' or 'disable'")
        (op, what), = entry.items()
        if op not in ("enable", "disable") or not isinstance(what, dict):
            raise ValueError(f"unknown rules selector {op!r} (expected 'enable' or 'disable' with a map)")
        rule, tag = what.get("rule"), what.get("tag")
        if (rule is None) == (tag is None) or not set(what) <= {"rule", "tag"}:
            raise ValueError("a rules selector names exactly one of 'rule' or 'tag'")
        return Selector(op == "enable", None if rule is None else str(rule), None if tag is None else str(tag))


def _is_syscall_enter(evt: Any) -> bool:
    if evt.is_exit:
        return False
    info = getattr(evt, "info", None)
    flag = getattr(info, "is_syscall", None)
    if flag is not None:
        return bool(flag)
    cat = getattr(info, "category", None)
    if cat is None:
        return True  # nothing tells us otherwise: treat an enter event as a syscall enter
    if isinstance(cat, str):
        return "SYSCALL" in cat.upper()
    try:
        return bool(int(cat) & EC_SYSCALL)
    except (TypeError, ValueError):
        return "SYSCALL" in str(cat).upper()


class _InfoOnly:
    """An event-shaped view of a table entry (what _is_syscall_enter reads)."""

    __slots__ = ("info", "is_exit")

    def __init__(self, info: Any) -> None:
        self.info = info
        self.is_exit = info.is_exit


Predicate = Callable[[Any], bool]


class _Bucket:
    """The enabled rules one event type reaches, and one function over all of them (see
    ``compile_bucket``): the index of the first match, or -1 (``first``), or all indices."""

    __slots__ = ("fn", "rules")

    def __init__(self, fn: Callable[[Any], Any], rules: tuple[CompiledRule, ...]) -> None:
        self.fn = fn
        self.rules = rules


def _plain_bucket(rules: Sequence[CompiledRule], first: bool, on_error: Callable[[], None]) -> Callable[[Any], Any]:
    """The reference evaluation: each rule's own predicate, in order."""
    fns = tuple(r.fn for r in rules)

    def run(evt: Any) -> Any:
        hits = []
        for k, fn in enumerate(fns):
            try:
                hit = fn(evt)
            except Exception:  # a faulty extractor must not stop the engine
                on_error()
                continue
            if hit:
                if first:
                    return k
                hits.append(k)
        return -1 if first else hits
    return run


class Ruleset:
    """Compiled rules in definition order, an event-type index over the enabled ones, matching."""

    def __init__(self, rules: Sequence[CompiledRule] = (), *, compiled: CompileOutput | None = None,
                 min_priority: Priority = Priority.DEBUG, rule_matching: str = "first",
                 hostname: str | None = None, source: str = "syscall",
                 required_engine_version: str | None = None,
                 required_plugin_versions: Sequence[Sequence[tuple[str, str]]] = (),
                 share_prefixes: bool = True) -> None:
        if rule_matching not in ("first", "all"):
            raise ValueError(f"rule_matching must be 'first' or 'all', not {rule_matching!r}")
        self.min_priority = Priority(min_priority)
        # Rules less severe than the threshold are not loaded at all (Falco's `priority`).
        self.rules: list[CompiledRule] = [r for r in rules if r.priority <= self.min_priority]
        self.compiled = compiled
        self._rule_matching = rule_matching
        self.hostname = socket.gethostname() if hostname is None else hostname
        self.source = source
        self.required_engine_version = required_engine_version
        self.required_plugin_versions = [list(a) for a in required_plugin_versions]
        self._by_name: dict[str, CompiledRule] = {r.name: r for r in self.rules}
        self.errors = 0  # predicate failures (a bug in an extractor must not stop the engine)
        # True: the rules of each event type run as one compiled function (fields extracted once
        # per event, evt.type checks decided per type); False: each rule's own predicate
        self.share_prefixes = share_prefixes
        self._reindex()

    @property
    def rule_matching(self) -> str:
        return self._rule_matching

    @rule_matching.setter
    def rule_matching(self, mode: str) -> None:
        self._rule_matching = mode
        if hasattr(self, "_plans"):
            self._reindex()

    # -- selection ----------------------------------------------------------------------------------------

    def is_enabled(self, name: str) -> bool:
        r = self._by_name.get(name)
        return r is not None and r.enabled

    def enabled_rules(self) -> list[CompiledRule]:
        return [r for r in self.rules if r.enabled]

    def enable_rule(self, name: str, enabled: bool = True) -> bool:
        """Enable/disable the rule with exactly this name; False when there is none."""
        r = self._by_name.get(name)
        if r is None:
            return False
        r.enabled = enabled
        self._reindex()
        return True

    def get(self, name: str) -> CompiledRule | None:
        return self._by_name.get(name)

    def enable(self, pattern: str, enabled: bool = True) -> int:
        """Enable/disable rules by name; ``*`` is a wildcard. Returns how many rules matched."""
        rx = re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.S) if "*" in pattern else None
        n = 0
        for r in self.rules:
            if (rx.fullmatch(r.name) if rx else r.name == pattern):
                r.enabled = enabled
                n += 1
        self._reindex()
        return n

    def enable_tags(self, tags: Iterable[str], enabled: bool = True) -> int:
        wanted = set(tags)
        n = 0
        for r in self.rules:
            if wanted & set(r.tags):
                r.enabled = enabled
                n += 1
        self._reindex()
        return n

    def apply_selectors(self, selectors: Iterable[Selector | dict[str, Any]]) -> None:
        """falco.yaml ``rules:`` selectors, in order; they win over the files' ``enabled:``."""
        for sel in selectors:
            s = sel if isinstance(sel, Selector) else Selector.parse(sel)
            if s.rule is not None:
                self.enable(s.rule, s.enable)
            if s.tag is not None:
                self.enable_tags([s.tag], s.enable)

    def disable_substring(self, text: str) -> int:
        """Legacy ``-D``: disable every rule whose name contains ``text``."""
        n = 0
        for r in self.rules:
            if text in r.name:
                r.enabled = False
                n += 1
        self._reindex()
        return n

    def disable_tags(self, tags: Iterable[str]) -> int:
        """Legacy ``-T``: disable rules having any of these tags."""
        return self.enable_tags(tags, False)

    def only_tags(self, tags: Iterable[str]) -> int:
        """Legacy ``-t``: run only rules having one of these tags."""
        wanted = set(tags)
        n = 0
        for r in self.rules:
            keep = bool(wanted & set(r.tags))
            r.enabled = keep and r.enabled
            n += keep
        self._reindex()
        return n

    # -- the index ----------------------------------------------------------------------------------------

    def _reindex(self) -> None:
        names: dict[str, list[CompiledRule]] = {}
        everywhere: list[CompiledRule] = []
        for r in self.rules:
            if not r.enabled or r.source != self.source:
                continue
            if r.evttypes is None:
                everywhere.append(r)
            else:
                for t in r.evttypes:
                    names.setdefault(t, [])
        for r in self.rules:  # definition order inside every bucket
            if not r.enabled or r.source != self.source:
                continue
            targets = names.keys() if r.evttypes is None else r.evttypes
            for t in targets:
                names[t].append(r)
        # Buckets are compiled lazily, on the first event of each type: only the types that occur pay.
        self.rules_by_type: dict[str, list[CompiledRule]] = names
        self._everywhere_rules = everywhere
        self._plans: dict[str, _Bucket | tuple[()]] = {}
        self._by_type: dict[Any, Any] = {}
        self._first = self._rule_matching == "first"

    def _count_error(self) -> None:
        self.errors += 1

    def _plan(self, name: str) -> _Bucket | tuple[()]:
        plan = self._plans.get(name)
        if plan is None:
            rules = tuple(self.rules_by_type.get(name, self._everywhere_rules))
            plan = self._compile_bucket(name, rules) if rules else ()
            self._plans[name] = plan
        return plan

    def _compile_bucket(self, name: str, rules: tuple[CompiledRule, ...]) -> _Bucket:
        if self.share_prefixes:
            try:
                from tercel.engine.condition.compiler import compile_bucket

                conds = [r.node if r.node is not None else r.fn for r in rules]
                return _Bucket(compile_bucket(conds, name, self._first, self._count_error), rules)
            except Exception:  # (e.g. a tree too deep to compile) never worse than rule by rule
                pass
        return _Bucket(_plain_bucket(rules, self._first, self._count_error), rules)

    def _bucket(self, evt: Any) -> _Bucket | tuple[()]:
        """Slow path, once per event type code: which rules an event of this type reaches."""
        if _is_syscall_enter(evt):
            self._by_type[evt.type] = ()
            return ()
        info = getattr(evt, "info", None)
        name = evt.name
        plan = self._plan(name)
        if info is not None and getattr(info, "name", name) != name:
            self._by_type[evt.type] = _BY_NAME  # generic syscall events: the name varies per event
        else:
            self._by_type[evt.type] = plan
        return plan

    def process(self, evt: Any) -> list[Alert]:
        bucket = self._by_type.get(evt.type, _MISS)
        if not bucket:
            return []
        if bucket is _MISS:
            bucket = self._bucket(evt)
            if not bucket:
                return []
        elif bucket is _BY_NAME:
            bucket = self._plans.get(evt.name) or self._plan(evt.name)
            if not bucket:
                return []
        hit = bucket.fn(evt)
        if self._first:
            if hit < 0:
                return []
            return [self._alert(bucket.rules[hit], evt)]
        return [self._alert(bucket.rules[k], evt) for k in hit]

    def _alert(self, rule: CompiledRule, evt: Any) -> Alert:
        try:
            text, fields = rule.formatter.render(evt)
        except Exception as e:  # keep the alert even if one output field fails
            self.errors += 1
            text, fields = f"{rule.output} (output rendering failed: {type(e).__name__})", {}
        return Alert(time_ns=evt.ts, rule=rule.name, priority=rule.priority, source=rule.source, message=text,
                     output_fields=fields, tags=rule.tags, hostname=self.hostname)

    def wanted_codes(self) -> frozenset[int]:
        """PPME type codes whose events may reach an enabled rule (for the state layer, which
        then builds no Event for the others): exit and meta codes of the rules' event types,
        GENERIC_X when any rule is enabled (its name varies per event)."""
        from tercel.state import eventtable as et

        out: set[int] = set()
        for code in range(et.PPM_EVENT_MAX):
            info = et.TABLE[code]
            if code <= et.GENERIC_X:
                if code == et.GENERIC_X and (self.rules_by_type or self._everywhere_rules):
                    out.add(code)
                continue
            if not info.known or (not info.is_exit and _is_syscall_enter(_InfoOnly(info))):
                continue
            if self.rules_by_type.get(info.name, self._everywhere_rules):
                out.add(code)
        return frozenset(out)

    def event_types(self) -> frozenset[str] | None:
        """Event type names the enabled rules need (what the kernel must send); None = all of them."""
        out: set[str] = set()
        for r in self.enabled_rules():
            if r.source != self.source:
                continue
            if r.evttypes is None:
                return None
            out |= r.evttypes
        return frozenset(out)

    # -- describing (-L / -l) -------------------------------------------------------------------------------

    def describe(self, rule: str | None = None) -> dict[str, Any]:
        """Falco's ``describe_rule`` JSON: rules (and with no rule named, macros and lists)."""
        from tercel.engine.rules import describe

        return describe.describe(self, rule)

    def describe_text(self, rule: str | None = None) -> str:
        from tercel.engine.rules import describe

        return describe.as_text(self.describe(rule))
