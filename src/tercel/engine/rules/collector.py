"""Collecting definitions across files: redefinition, append, override, enable (Falco's collector).

Items keep the position of their first definition (``index``); ``visibility`` is the counter value
of their last change, which decides which macros and lists a macro may see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from tercel.engine.rules.model import (
    CondPos,
    ExceptionInfo,
    ListInfo,
    MacroInfo,
    PluginRequirement,
    PluginVersionInfo,
    RuleInfo,
    RuleUpdate,
    Version,
    parse_version,
)
from tercel.engine.rules.results import Context, ErrorCode, LoadResult, RuleLoadError, WarningCode

ERROR_NO_PREVIOUS_MACRO = ("Macro uses 'append' or 'override.condition: append' but no macro by that name "
                           "already exists")
ERROR_NO_PREVIOUS_LIST = ("List uses 'append' or 'override.items: append' but no list by that name already "
                          "exists")
ERROR_NO_PREVIOUS_RULE_APPEND = ("Rule uses 'append' or 'override.<key>: append' but no rule by that name "
                                 "already exists")
ERROR_NO_PREVIOUS_RULE_REPLACE = ("An 'override.<key>: replace' to a rule was requested but no rule by that "
                                  "name already exists")

# libsinsp's supported operators; the list ones take a parenthesised list of values.
OPERATORS = frozenset({"=", "==", "!=", "<=", ">=", "<", ">", "contains", "icontains", "bcontains", "glob",
                       "iglob", "bstartswith", "startswith", "endswith", "in", "intersects", "pmatch", "exists",
                       "regex"})
LIST_OPERATORS = frozenset({"in", "intersects", "pmatch"})
MODIFIABLE = frozenset({"=", "!=", "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith",
                        "glob", "iglob", "regex"})
MODIFIERS = frozenset({"oneof", "anyof", "allof"})


def split_operator(op: str) -> tuple[str, str | None] | None:
    """``"startswith oneof"`` -> ("startswith", "oneof"); None when not an operator."""
    parts = op.split()
    if len(parts) == 1 and parts[0] in OPERATORS:
        return parts[0], None
    if len(parts) == 2 and parts[0] in MODIFIABLE and parts[1] in MODIFIERS:
        return parts[0], parts[1]
    return None


def is_list_operator(op: str) -> bool:
    got = split_operator(op)
    return got is not None and (got[0] in LIST_OPERATORS or got[1] is not None)


def _throw(cond: bool, msg: str, ctx: Context) -> None:
    if cond:
        raise RuleLoadError(ErrorCode.LOAD_ERR_VALIDATE, msg, ctx)


class _Named(Protocol):
    name: str
    index: int
    visibility: int


T = TypeVar("T", ListInfo, MacroInfo, RuleInfo)

FieldCheck = Callable[[str], bool]  # field name -> defined?


class Collector:
    """All lists, macros and rules read so far, in definition order."""

    def __init__(self, engine_version: Version, sources: frozenset[str] = frozenset({"syscall"}),
                 field_defined: FieldCheck | None = None) -> None:
        self.engine_version = engine_version
        self.sources = sources
        self.field_defined = field_defined
        self.res: LoadResult | None = None  # the result of the file being read
        self.lists: dict[str, ListInfo] = {}
        self.macros: dict[str, MacroInfo] = {}
        self.rules: dict[str, RuleInfo] = {}
        self.required_engine_version: tuple[Version, Context] | None = None
        self.required_plugin_versions: list[PluginVersionInfo] = []
        self._cur = 0

    def _define(self, table: dict[str, T], info: T) -> None:
        prev = table.get(info.name)
        if prev is not None:
            info.index = prev.index
            info.visibility = self._cur
            # Redefinition replaces the item but keeps its place in the definition order.
            table[info.name] = info
        else:
            info.index = info.visibility = self._cur
            table[info.name] = info
        self._cur += 1

    # -- versions ---------------------------------------------------------------------------------------

    def define_engine_version(self, version: Version, ctx: Context) -> None:
        _throw(not self.engine_version.compatible_with(version),
               f"Rules require engine version {version}, but engine version is {self.engine_version}", ctx)
        if self.required_engine_version is None or self.required_engine_version[0].key() < version.key():
            self.required_engine_version = (version, ctx)

    def define_plugin_versions(self, info: PluginVersionInfo) -> None:
        names: set[str] = set()
        for req in info.alternatives:
            _throw(parse_version(req.version) is None,
                   f"Invalid required version '{req.version}' for plugin '{req.name}'", info.ctx)
            _throw(req.name in names, f"Defined multiple alternative version requirements for plugin '{req.name}'",
                   info.ctx)
            names.add(req.name)
        self.required_plugin_versions.append(info)

    def unsatisfied_plugins(self, loaded: dict[str, str], infos: list[PluginVersionInfo] | None = None
                            ) -> list[tuple[list[PluginRequirement], Context]]:
        """Requirements no loaded plugin (name -> version) satisfies."""
        bad = []
        for info in self.required_plugin_versions if infos is None else infos:
            ok = False
            for req in info.alternatives:
                have = loaded.get(req.name)
                want = parse_version(req.version)
                got = parse_version(have) if have else None
                if got is not None and want is not None and got.compatible_with(want):
                    ok = True
                    break
            if not ok:
                bad.append((info.alternatives, info.ctx))
        return bad

    # -- lists and macros ---------------------------------------------------------------------------------

    def define_list(self, info: ListInfo) -> None:
        self._define(self.lists, info)

    def append_list(self, info: ListInfo) -> None:
        prev = self.lists.get(info.name)
        _throw(prev is None, ERROR_NO_PREVIOUS_LIST, info.ctx)
        assert prev is not None
        prev.items.extend(info.items)
        prev.visibility = self._cur
        self._cur += 1

    def define_macro(self, info: MacroInfo) -> None:
        self._define(self.macros, info)

    def append_macro(self, info: MacroInfo) -> None:
        prev = self.macros.get(info.name)
        _throw(prev is None, ERROR_NO_PREVIOUS_MACRO, info.ctx)
        assert prev is not None
        _append_cond(prev, info.cond, info.cond_pos)
        prev.visibility = self._cur
        self._cur += 1

    # -- rules ------------------------------------------------------------------------------------------

    def _validate_exception(self, ex: ExceptionInfo, check_fields: bool) -> None:
        if ex.fields.is_list:
            if not ex.comps.is_valid():
                from tercel.engine.rules.model import Entry

                ex.comps = Entry(is_list=True, items=[Entry(item="=") for _ in ex.fields.items])
            _throw(len(ex.fields.items) != len(ex.comps.items), "Fields and comps lists must have equal length",
                   ex.ctx)
            for c in ex.comps.items:
                _throw(c.is_list or split_operator(c.item) is None,
                       f"'{c.item}' is not a supported comparison operator", ex.ctx)
            if check_fields:
                for f in ex.fields.items:
                    _throw(f.is_list or not self._field_ok(f.item), f"'{f.item}' is not a supported filter field",
                           ex.ctx)
        else:
            if not ex.comps.is_valid():
                ex.comps.is_list = False
                ex.comps.item = "in"
            _throw(ex.comps.is_list, "Fields and comps must both be strings", ex.ctx)
            op = split_operator(ex.comps.item)
            _throw(op is None or not (op[0] in LIST_OPERATORS or op[1] is not None),
                   "When fields is a single value, comps must be one of (in, pmatch, intersects)", ex.ctx)
            if check_fields:
                _throw(not self._field_ok(ex.fields.item), f"'{ex.fields.item}' is not a supported filter field",
                       ex.ctx)

    def _field_ok(self, name: str) -> bool:
        return self.field_defined is None or self.field_defined(name)

    def define_rule(self, info: RuleInfo) -> None:
        prev = self.rules.get(info.name)
        _throw(prev is not None and prev.source != info.source, "Rule has been re-defined with a different source",
               info.ctx)
        known = info.source in self.sources
        if not known:
            info.unknown_source = True
            if self.res is not None:
                self.res.add_warning(WarningCode.LOAD_UNKNOWN_SOURCE, f"Unknown source {info.source}, skipping",
                                     info.ctx)
        for ex in info.exceptions:
            _throw(not ex.fields.is_valid(), "Rule exception item must have fields property with a list of fields",
                   ex.ctx)
            self._validate_exception(ex, known)
        self._define(self.rules, info)

    def _prev_rule(self, info: RuleUpdate, msg: str) -> RuleInfo:
        prev = self.rules.get(info.name)
        _throw(prev is None, msg, info.ctx)
        assert prev is not None
        return prev

    def append_rule(self, info: RuleUpdate) -> None:
        prev = self._prev_rule(info, ERROR_NO_PREVIOUS_RULE_APPEND)
        _throw(not info.has_any_value(), "Appended rule must have exceptions or condition property", info.ctx)
        if info.cond:
            _append_cond(prev, info.cond, info.cond_pos)
        if info.output:
            prev.output += " " + info.output
        if info.desc:
            prev.desc += " " + info.desc
        if info.tags is not None:
            prev.tags |= info.tags
        for ex in info.exceptions or ():
            old = next((e for e in prev.exceptions if e.name == ex.name), None)
            if old is None:
                _throw(not ex.fields.is_valid(), "Rule exception must have fields property with a list of fields",
                       ex.ctx)
                _throw(not ex.values, "Rule exception must have values property with a list of values", ex.ctx)
                self._validate_exception(ex, not prev.unknown_source)
                prev.exceptions.append(ex)
            else:
                _throw(ex.fields.is_valid(), "Can not append exception fields to existing exception, only values",
                       ex.ctx)
                _throw(ex.comps.is_valid(), "Can not append exception comps to existing exception, only values",
                       ex.ctx)
                old.values.extend(ex.values)
        prev.visibility = self._cur
        self._cur += 1

    def replace_rule(self, info: RuleUpdate) -> None:
        prev = self._prev_rule(info, ERROR_NO_PREVIOUS_RULE_REPLACE)
        _throw(not info.has_any_value(), "The rule must have at least one field that can be replaced", info.ctx)
        if info.cond is not None:
            prev.cond = info.cond
            prev.cond_ctx = info.cond_ctx
            prev.cond_pos = info.cond_pos
        if info.output is not None:
            prev.output = info.output
        if info.desc is not None:
            prev.desc = info.desc
        if info.tags is not None:
            prev.tags = set(info.tags)
        if info.exceptions is not None:
            for ex in info.exceptions:
                _throw(not ex.fields.is_valid(), "Rule exception item must have fields property with a list of "
                       "fields", ex.ctx)
                self._validate_exception(ex, not prev.unknown_source)
            prev.exceptions = list(info.exceptions)
        for attr in ("priority", "enabled", "capture", "capture_duration", "warn_evttypes", "skip_if_unknown_filter"):
            v = getattr(info, attr)
            if v is not None:
                setattr(prev, attr, v)
        prev.visibility = self._cur
        self._cur += 1

    def enable_rule(self, info: RuleInfo) -> None:
        prev = self.rules.get(info.name)
        _throw(prev is None, "Rule has 'enabled' key but no rule by that name already exists", info.ctx)
        assert prev is not None
        prev.enabled = info.enabled


def _append_cond(prev: MacroInfo | RuleInfo, cond: str, pos: CondPos | None) -> None:
    if prev.cond_pos is not None and pos is not None:
        prev.cond_pos.parts.append((len(prev.cond) + 1, pos))
    prev.cond += " " + cond
