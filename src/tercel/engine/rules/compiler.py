"""Compiling what the collector holds: lists, macros (with Falco's visibility), rules with their
exceptions, outputs, event types (Falco's rule_loader_compiler)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tercel.engine.condition.errors import ConditionError, UnknownFieldError
from tercel.engine.output_format import OutputFormatError
from tercel.engine.priority import Priority
from tercel.engine.rules import condapi
from tercel.engine.rules.collector import Collector, is_list_operator
from tercel.engine.rules.model import CondPos, ExceptionInfo, RuleInfo
from tercel.engine.rules.positions import line_col, scalar_offset
from tercel.engine.rules.results import (
    Context,
    ErrorCode,
    LoadResult,
    Location,
    RuleLoadError,
    WarningCode,
)

DEPRECATED_FIELDS = ("evt.dir", "evt.latency", "evt.latency.s", "evt.latency.ns", "evt.latency.human",
                     "evt.wait_latency")
CONTAINER_INFO = "%container.info"
_LATENCY = "field is not available due to the drop of enter events."
# Falco's explanations (falco_load_result.cpp deprecated_field_descs)
DEPRECATED_DESCS = {
    "evt.dir": "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always "
               "evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'",
    **{f: _LATENCY for f in DEPRECATED_FIELDS[1:]},
}


@dataclass(slots=True)
class CompiledList:
    name: str
    items: tuple[str, ...]  # as written (quoted items stay quoted; expansion unquotes them)
    used: bool = False


@dataclass(slots=True)
class CompiledMacro:
    name: str
    condition: str
    node: Any  # expanded
    raw: Any = None  # as parsed
    refs: tuple[str, ...] = ()  # macros it names directly
    used: bool = False


@dataclass(slots=True)
class CompiledRule:
    name: str
    description: str
    condition: str  # as written, exceptions appended
    node: Any  # expanded condition tree
    fn: Callable[[Any], bool]
    output: str
    formatter: Any  # OutputFormat
    priority: Priority
    tags: tuple[str, ...]
    source: str
    enabled: bool
    evttypes: frozenset[str] | None  # None: no event-type restriction
    exception_fields: frozenset[str] = frozenset()
    capture: bool = False
    capture_duration: int = 0
    macros: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    exceptions: tuple[ExceptionInfo, ...] = ()
    index: int = 0


@dataclass(slots=True)
class CompileOutput:
    rules: list[CompiledRule] = field(default_factory=list)
    macros: dict[str, CompiledMacro] = field(default_factory=dict)
    lists: dict[str, CompiledList] = field(default_factory=dict)


def _quote(item: str) -> str:
    if " " in item and item[:1] not in ("\"", "'"):
        return '"' + item + '"'
    return item


def _cond_name(cond: str) -> str:
    name = '"' + (cond[:17] + '..."' if len(cond) > 20 else cond + '"')
    return name.replace("\n", " ").replace("\r", " ")


def cond_ctx(parent: Context, cond: str, pos: CondPos | None, offset: int, shift: int = 0) -> Context:
    """The context of a problem at ``offset`` of condition ``cond`` (read at ``pos``; ``shift`` is
    how far the condition was moved inside the compiled text, e.g. by the exceptions' parenthesis)."""
    if pos is None or offset < 0:
        last = parent.last
        loc = Location("condition expression", "", _cond_name(cond), last.line, last.column, last.offset)
        return Context(parent.locations + (loc,), parent.snippet_pos, parent.file)
    k = min(max(offset - shift, 0), len(cond))
    file, content, abs_off = scalar_offset(pos, cond, k)
    line, col = line_col(content, abs_off)
    loc = Location("condition expression", "", _cond_name(cond), line, col, abs_off)
    return Context(parent.locations + (loc,), abs_off, file)


def _fail(code: ErrorCode, msg: str, ctx: Context) -> RuleLoadError:
    return RuleLoadError(code, msg, ctx)


def build_exceptions(rule: RuleInfo) -> tuple[str, set[str]]:
    """The rule condition with its exceptions: ``(cond) and not (...) and not (...)``."""
    fields: set[str] = set()
    condition = "(" + rule.cond + ")"
    for ex in rule.exceptions:
        icond = ""
        if not ex.fields.is_list:
            for val in ex.values:
                if val.is_list:
                    raise _fail(ErrorCode.LOAD_ERR_VALIDATE, "Expected values array to contain a list of strings",
                                ex.ctx)
                icond += ("(" + ex.fields.item + " " + ex.comps.item + " (") if not icond else ", "
                fields.add(ex.fields.item)
                icond += _quote(val.item)
            icond += "))" if icond else ""
        else:
            icond = "("
            for values in ex.values:
                if not values.is_list or len(ex.fields.items) != len(values.items):
                    raise _fail(ErrorCode.LOAD_ERR_VALIDATE, "Fields and values lists must have equal length",
                                ex.ctx)
                icond += "" if icond == "(" else " or "
                icond += "("
                for k, fld in enumerate(ex.fields.items):
                    icond += "" if k == 0 else " and "
                    v = values.items[k]
                    if v.is_list:
                        istr = "(" + ", ".join(_quote(x.item) for x in v.items) + ")"
                    elif is_list_operator(ex.comps.items[k].item):
                        istr = v.item if v.item.startswith("(") else "(" + v.item + ")"
                    else:
                        istr = _quote(v.item)
                    icond += " " + fld.item + " " + ex.comps.items[k].item + " " + istr
                    fields.add(fld.item)
                icond += ")"
            icond += ")"
            if icond == "()":
                icond = ""
        if icond:
            condition += " and not " + icond
    return condition, fields


class _Visible(Collection[str]):
    """The macros a macro may use: those first defined before its last change (Falco's rule)."""

    def __init__(self, infos: dict[str, Any], visibility: int) -> None:
        self.infos = infos
        self.visibility = visibility

    def __contains__(self, name: object) -> bool:
        info = self.infos.get(name)  # type: ignore[call-overload]
        return info is not None and info.index < self.visibility

    def __iter__(self) -> Iterator[str]:
        return (n for n, i in self.infos.items() if i.index < self.visibility)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _MacroTable(Mapping[str, Any]):
    """Macro name -> (expanded) tree, limited to the visible macros, without copying."""

    def __init__(self, macros: dict[str, CompiledMacro], visible: Collection[str]) -> None:
        self.macros = macros
        self.visible = visible

    def __getitem__(self, name: str) -> Any:
        if name not in self.visible:
            raise KeyError(name)
        return self.macros[name].node

    def __iter__(self) -> Iterator[str]:
        return (n for n in self.macros if n in self.visible)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Compiler:
    def __init__(self, collector: Collector, res: LoadResult) -> None:
        self.col = collector
        self.res = res
        self.out = CompileOutput()
        self._lists_cache: dict[str, tuple[str, ...]] | None = None

    def compile(self) -> CompileOutput | None:
        try:
            self._lists()
            self._macros()
            self._rules()
        except RuleLoadError as e:
            self.res.add_error(e.code, e.message, e.ctx)
            return None
        for m in self.out.macros.values():
            if not m.used:
                self.res.add_warning(WarningCode.LOAD_UNUSED_MACRO, "Macro not referred to by any other rule/macro",
                                     self.col.macros[m.name].ctx)
        for lst in self.out.lists.values():
            if not lst.used:
                self.res.add_warning(WarningCode.LOAD_UNUSED_LIST, "List not referred to by any other rule/macro",
                                     self.col.lists[lst.name].ctx)
        return self.out

    # -- lists ------------------------------------------------------------------------------------------

    def _lists(self) -> None:
        used: list[str] = []
        infos = self.col.lists
        for info in infos.values():
            items: list[str] = []
            for item in info.items:
                ref = infos.get(item)
                # A list may name lists defined before it: their own items are spliced in (one level).
                if ref is not None and ref.index < info.visibility:
                    used.append(ref.name)
                    items.extend(ref.items)
                else:
                    items.append(item)
            self.out.lists[info.name] = CompiledList(info.name, tuple(items))
        for name in used:
            self.out.lists[name].used = True

    def _mark_lists(self, node: Any) -> tuple[str, ...]:
        names = tuple(sorted(n for n in condapi.list_refs(node) if n in self.out.lists))
        for n in names:
            self.out.lists[n].used = True
        return names

    def _list_table(self) -> dict[str, tuple[str, ...]]:
        if self._lists_cache is None:
            self._lists_cache = {name: lst.items for name, lst in self.out.lists.items()}
        return self._lists_cache

    # -- conditions -------------------------------------------------------------------------------------

    def _parse(self, text: str, ctx: Context, pos: CondPos | None, shift: int = 0, cond: str | None = None,
               tail: Context | None = None) -> Any:
        """Parse ``text``; ``cond`` is the rule's own condition inside it (after ``shift``
        characters) and ``tail`` the context of what follows it (the exceptions)."""
        try:
            return condapi.parse(text)
        except ConditionError as e:
            own = text if cond is None else cond
            if tail is not None and e.offset - shift > len(own):
                raise _fail(ErrorCode.LOAD_ERR_COMPILE_CONDITION, e.message, tail) from None
            raise _fail(ErrorCode.LOAD_ERR_COMPILE_CONDITION, e.message,
                        cond_ctx(ctx, own, pos, e.offset, shift)) from None
        except RecursionError:
            raise _fail(ErrorCode.LOAD_ERR_COMPILE_CONDITION, "condition nested too deeply", ctx) from None

    def _resolve(self, node: Any, text: str, visible: Collection[str], ctx: Context, pos: CondPos | None,
                 shift: int = 0) -> tuple[Any, tuple[str, ...]]:
        refs = list(condapi.macro_nodes(node))
        unknown = sorted(n for n in {m.name for m in refs} if n not in visible)
        if unknown:
            first = min((m for m in refs if m.name == unknown[0]), key=lambda m: m.pos)
            raise _fail(ErrorCode.LOAD_ERR_VALIDATE, f"Undefined macro '{unknown[0]}' used in filter.",
                        cond_ctx(ctx, text[shift:] if shift else text, pos, first.pos, shift))
        names = tuple(sorted({m.name for m in refs}))
        for n in names:
            self.out.macros[n].used = True
        table = _MacroTable(self.out.macros, visible)
        try:
            expanded = condapi.expand(node, table, self._list_table())
            for _ in range(64):  # expand() may leave references of inserted bodies for another pass
                left = {m.name for m in condapi.macro_nodes(expanded)}
                if not left:
                    break
                missing = sorted(n for n in left if n not in visible)
                if missing:
                    raise ConditionError(f"Undefined macro '{missing[0]}' used in filter.", -1)
                expanded = condapi.expand(expanded, table, self._list_table())
            else:
                raise ConditionError(f"Reference loop in macro '{names[0]}'", -1)
        except ConditionError as e:
            raise _fail(ErrorCode.LOAD_ERR_VALIDATE, e.message, cond_ctx(ctx, text, None, -1)) from None
        except RecursionError:
            raise _fail(ErrorCode.LOAD_ERR_VALIDATE, f"Reference loop in macro '{names[0]}'",
                        cond_ctx(ctx, text, None, -1)) from None
        return expanded, names

    def _macros(self) -> None:
        for info in self.col.macros.values():
            assert info.cond_ctx is not None
            node = self._parse(info.cond, info.cond_ctx, info.cond_pos)
            self._mark_lists(node)
            refs = tuple(sorted({m.name for m in condapi.macro_nodes(node)}))
            self.out.macros[info.name] = CompiledMacro(info.name, info.cond, node, node, refs)
        for info in self.col.macros.values():
            visible = _Visible(self.col.macros, info.visibility)
            m = self.out.macros[info.name]
            m.node, _ = self._resolve(m.node, info.cond, visible, info.ctx, info.cond_pos)

    # -- rules ------------------------------------------------------------------------------------------

    def _blame(self, e: ConditionError, r: RuleInfo, macros: tuple[str, ...]) -> Context:
        """Where a type-check error really is. Offsets of errors found after expansion point into
        whatever text the failing node came from: the rule's own text when it uses no macro, else
        the innermost macro whose own tree fails the same way."""
        assert r.cond_ctx is not None
        off = e.offset
        shift = 1 if r.exceptions else 0
        if r.exceptions and off - shift > len(r.cond):  # in the exceptions appended to the condition
            return r.exceptions[0].ctx
        if not macros:
            return cond_ctx(r.cond_ctx, r.cond, r.cond_pos, off, shift if off >= 0 else 0)
        seen: list[str] = []
        stack = list(macros)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.append(name)
            stack.extend(self.out.macros[name].refs)
        best: Context | None = None
        for name in seen:
            m = self.out.macros[name]
            try:
                condapi.cond.validate(m.node)
                continue
            except ConditionError as err:
                if err.message != e.message:
                    continue
                info = self.col.macros[name]
                assert info.cond_ctx is not None
                # rule 'r' -> macro 'm' -> macro condition -> condition expression
                via = Context(r.ctx.locations + info.cond_ctx.locations[1:], info.cond_ctx.snippet_pos,
                              info.cond_ctx.file)
                if not m.refs:  # the offset is in this macro's own text
                    return cond_ctx(via, info.cond, info.cond_pos, err.offset)
                best = best or cond_ctx(via, info.cond, info.cond_pos, -1)
            except Exception:  # only looking for the culprit
                continue
        if best is not None:
            return best
        # No macro fails on its own: the problem is in the rule's own text.
        return cond_ctx(r.cond_ctx, r.cond, r.cond_pos, off, shift if off >= 0 else 0)

    def _rules(self) -> None:
        all_macros = set(self.out.macros)
        for r in self.col.rules.values():
            if r.unknown_source:
                continue
            condition, exc_fields = build_exceptions(r) if r.exceptions else (r.cond, set())
            shift = 1 if r.exceptions else 0
            output = r.output
            if CONTAINER_INFO in output:
                self.res.add_warning(
                    WarningCode.LOAD_DEPRECATED_ITEM,
                    "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. "
                    "The container plugin will automatically add required fields to the output message.", r.ctx)
                output = output.replace(CONTAINER_INFO, "")
            assert r.output_ctx is not None and r.cond_ctx is not None
            try:
                formatter = condapi.compile_output(output)
            except OutputFormatError as e:
                msg = e.message
                if r.skip_if_unknown_filter and _unknown_field_msg(msg):
                    self.res.add_warning(WarningCode.LOAD_UNKNOWN_FILTER, msg, r.output_ctx)
                    continue
                raise _fail(ErrorCode.LOAD_ERR_COMPILE_OUTPUT, msg, r.output_ctx) from None
            for f in DEPRECATED_FIELDS:
                if f"%{f}" in output and not any(f"%{f}{c}" in output for c in "._"):
                    self.res.add_warning(WarningCode.LOAD_DEPRECATED_ITEM,
                                         f"usage of deprecated field '{f}' has been detected in the rule output",
                                         r.output_ctx)
            node = self._parse(condition, r.cond_ctx, r.cond_pos, shift, r.cond,
                               r.exceptions[0].ctx if r.exceptions else None)
            lists = self._mark_lists(node)
            node, macros = self._resolve(node, condition, all_macros, r.ctx, r.cond_pos, shift)
            try:
                warnings, evttypes, fn = condapi.analyse(node)
            except UnknownFieldError as e:
                ctx = self._blame(e, r, macros)
                if r.skip_if_unknown_filter:
                    self.res.add_warning(WarningCode.LOAD_UNKNOWN_FILTER, e.message, ctx)
                    continue
                raise _fail(ErrorCode.LOAD_ERR_COMPILE_CONDITION, e.message, ctx) from None
            except ConditionError as e:
                raise _fail(ErrorCode.LOAD_ERR_COMPILE_CONDITION, e.message, self._blame(e, r, macros)) from None
            except RecursionError:
                raise _fail(ErrorCode.LOAD_ERR_COMPILE_CONDITION, "condition nested too deeply",
                            r.cond_ctx) from None
            for w in warnings:  # checker warnings carry no offset: they point at the condition
                code, msg = _warning_code(w)
                self.res.add_warning(code, msg, cond_ctx(r.cond_ctx, r.cond, r.cond_pos, -1))
            if r.source == "syscall" and (evttypes is None or len(evttypes) > 100) and r.warn_evttypes:
                self.res.add_warning(WarningCode.LOAD_NO_EVTTYPE,
                                     "Rule matches too many evt.type values. This has a significant performance "
                                     "penalty.", r.ctx)
            self.out.rules.append(CompiledRule(
                name=r.name, description=r.desc, condition=condition, node=node, fn=fn, output=output,
                formatter=formatter, priority=r.priority, tags=tuple(sorted(r.tags)), source=r.source,
                enabled=r.enabled, evttypes=evttypes, exception_fields=frozenset(exc_fields), capture=r.capture,
                capture_duration=r.capture_duration, macros=macros, lists=lists, exceptions=tuple(r.exceptions),
                index=len(self.out.rules)))




def _unknown_field_msg(msg: str) -> bool:
    return "nonexistent field" in msg or "invalid formatting token" in msg or "unknown field" in msg.lower()


def _warning_code(msg: str) -> tuple[WarningCode, str]:
    """The load-result code of a condition checker warning (the checker words them as Falco does)."""
    if "<NA>" in msg:
        return WarningCode.LOAD_UNSAFE_NA_CHECK, msg
    if "deprecated" in msg.lower():
        m = re.search(r"'([a-z0-9_.]+)'", msg)
        desc = DEPRECATED_DESCS.get(m.group(1)) if m else None
        return WarningCode.LOAD_DEPRECATED_ITEM, f"{msg}: {desc}" if desc else msg
    return WarningCode.LOAD_COMPILE_CONDITION, msg
