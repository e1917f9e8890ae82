"""Reading rule files: YAML nodes with positions -> collector calls (Falco's rule_loader_reader).

Every problem becomes a :class:`RuleLoadError` (or a warning) carrying a :class:`Context` that names
the file, the item and the exact node. PyYAML's composer gives the nodes; the C loader is used when
libyaml is available.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tercel.engine.priority import Priority
from tercel.engine.rules.collector import Collector
from tercel.engine.rules.model import (
    CondPos,
    Entry,
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

try:  # libyaml speeds composing the official files up several times
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

_NULL_TAG = "tag:yaml.org,2002:null"
RGX_IDENTIFIER = "([a-zA-Z]+[a-zA-Z0-9_]*)"
RGX_BARESTR = "([^()\"'[:space:]=,]+)"
_IDENT_RE = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*")
_BARESTR_RE = re.compile(r"[^()\"'\s=,]+")

WARNING_APPEND = ("'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under "
                  "'override' instead.")
WARNING_ENABLED = ("The standalone 'enabled' key usage is deprecated. The correct approach requires also a "
                   "'replace' entry under the 'override' key (i.e. 'enabled: replace').")
ERROR_OVERRIDE_APPEND = ("Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry "
                         "(e.g. 'condition: append') under 'override' instead.")

RULE_APPENDABLE = ("condition", "output", "desc", "tags", "exceptions")
RULE_REPLACEABLE = ("condition", "output", "desc", "priority", "tags", "exceptions", "enabled", "capture",
                    "capture_duration", "warn_evttypes", "skip-if-unknown-filter")
RULE_KEYS = frozenset({"rule", "condition", "output", "desc", "priority", "source", "enabled", "tags",
                       "exceptions", "capture", "capture_duration", "warn_evttypes", "skip-if-unknown-filter",
                       "append", "override"})
MACRO_KEYS = frozenset({"macro", "condition", "append", "override"})
LIST_KEYS = frozenset({"list", "items", "append", "override"})
EXCEPTION_KEYS = frozenset({"name", "fields", "comps", "values"})
PLUGIN_KEYS = frozenset({"name", "version", "alternatives"})
ALT_KEYS = frozenset({"name", "version"})

_TRUE = frozenset({"y", "yes", "true", "on"})
_FALSE = frozenset({"n", "no", "false", "off"})


@dataclass(slots=True)
class ReadConfig:
    name: str  # the file name as given
    content: str
    res: LoadResult


def _is_null(node: Node | None) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _mapping(node: MappingNode) -> dict[str, tuple[Node, Node]]:
    """Key text -> (key node, value node); the last duplicate wins."""
    out: dict[str, tuple[Node, Node]] = {}
    for k, v in node.value:
        key = k.value if isinstance(k, ScalarNode) else str(k.value)
        out[key] = (k, v)
    return out


def _ctx(parent: Context, node: Node, item_type: str, item_name: str = "") -> Context:
    m = node.start_mark
    return parent.child(item_type, item_name, m.line, m.column, m.index)


def _throw(cond: bool, msg: str, ctx: Context) -> None:
    if cond:
        raise RuleLoadError(ErrorCode.LOAD_ERR_YAML_VALIDATE, msg, ctx)


class _Item:
    """One YAML map item of a rules file with Falco's decode helpers."""

    __slots__ = ("node", "keys")

    def __init__(self, node: MappingNode) -> None:
        self.node = node
        self.keys = _mapping(node)

    def has(self, key: str) -> bool:
        return key in self.keys

    def value(self, key: str) -> Node | None:
        kv = self.keys.get(key)
        return kv[1] if kv else None

    def _scalar(self, key: str, ctx: Context, optional: bool) -> tuple[str, Node] | None:
        val = self.value(key)
        if val is None:
            if optional:
                return None
            _throw(True, f"Item has no mapping for key '{key}'", ctx)
        assert val is not None
        _throw(_is_null(val), f"Mapping for key '{key}' is empty", ctx)
        vctx = _ctx(ctx, val, "value for", key)
        _throw(not isinstance(val, ScalarNode), "Value is not a scalar value", vctx)
        _throw(val.value == "", "Value must be non-empty", vctx)
        return str(val.value), val

    def string(self, key: str, ctx: Context, optional: bool = False) -> str | None:
        got = self._scalar(key, ctx, optional)
        return None if got is None else got[0]

    def boolean(self, key: str, ctx: Context, optional: bool = False) -> bool | None:
        got = self._scalar(key, ctx, optional)
        if got is None:
            return None
        text, node = got
        low = text.lower() if text in (text.lower(), text.upper(), text.capitalize()) else text
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        _throw(True, "Can't decode YAML scalar value", _ctx(ctx, node, "value for", key))
        return None

    def uint(self, key: str, ctx: Context, optional: bool = False) -> int | None:
        got = self._scalar(key, ctx, optional)
        if got is None:
            return None
        text, node = got
        t = text.strip()
        if not re.fullmatch(r"\+?[0-9]+", t) or int(t) > 0xFFFFFFFF:
            _throw(True, "Can't decode YAML scalar value", _ctx(ctx, node, "value for", key))
        return int(t)

    def string_seq(self, key: str, ctx: Context, optional: bool) -> list[str] | None:
        val = self.value(key)
        if val is None:
            if optional:
                return None
            _throw(True, f"Item has no mapping for key '{key}'", ctx)
        assert val is not None
        vctx = _ctx(ctx, val, "value for", key)
        _throw(not isinstance(val, SequenceNode), "Value is not a sequence", vctx)
        out = []
        for v in val.value:
            ictx = _ctx(vctx, v, "list item")
            _throw(not isinstance(v, ScalarNode) or _is_null(v), "sequence value is not scalar", ictx)
            out.append(str(v.value))
        return out


def _cond_pos(cfg: ReadConfig, node: Node) -> CondPos:
    style = getattr(node, "style", None)
    return CondPos(cfg.name, cfg.content, node.start_mark.index, node.end_mark.index, style or None)


def _appends(cfg: ReadConfig, item: _Item, key: str, ctx: Context) -> bool:
    """Whether a list or macro item appends to its earlier definition (legacy `append: true`, which warns, or
    `override: {key: append}`) rather than redefining it; the two forms together are an error."""
    append = bool(item.boolean("append", ctx, optional=True))
    if append:
        cfg.res.add_warning(WarningCode.LOAD_DEPRECATED_ITEM, WARNING_APPEND, ctx)
    o_app, o_rep = _decode_overrides(item, (key,), (key,), ctx)
    _throw(append and bool(o_app or o_rep), ERROR_OVERRIDE_APPEND, ctx)
    return append or key in o_app


def _decode_overrides(item: _Item, appendable: tuple[str, ...] | frozenset[str],
                      replaceable: tuple[str, ...] | frozenset[str], ctx: Context) -> tuple[set[str], set[str]]:
    out_append: set[str] = set()
    out_replace: set[str] = set()
    val = item.value("override")
    if val is None:
        return out_append, out_replace
    octx = _ctx(ctx, item.node, "overrides")
    if _is_null(val):
        return out_append, out_replace
    _throw(not isinstance(val, MappingNode), "Value of 'override' must be a mapping", _ctx(octx, val, "value for",
                                                                                         "override"))
    for knode, vnode in val.value:
        key = str(knode.value)
        kctx = _ctx(octx, knode, "overrides", key)
        _throw(not isinstance(vnode, ScalarNode), f"Invalid override operation for key '{key}'", kctx)
        op = str(vnode.value)
        can_append = key in appendable
        can_replace = key in replaceable
        if op == "append":
            _throw(not can_append, f"Key '{key}' cannot be appended to, use 'replace' instead", kctx)
            out_append.add(key)
        elif op == "replace":
            _throw(not can_replace, f"Key '{key}' cannot be replaced", kctx)
            out_replace.add(key)
        else:
            allowed = ("append " if can_append else "") + ("replace " if can_replace else "")
            _throw(True, f"Invalid override operation for key '{key}': '{op}'. Allowed values are: {allowed}",
                   _ctx(octx, vnode, "value for", key))
    return out_append, out_replace


MAX_EXCEPTION_ENTRIES = 100_000  # YAML aliases can multiply nested values: keep it bounded


def _decode_entry(node: Node | None, key: str | None, ctx: Context, optional: bool,
                  budget: list[int] | None = None) -> Entry:
    out = Entry()
    if budget is None:
        budget = [MAX_EXCEPTION_ENTRIES]
    budget[0] -= 1
    _throw(budget[0] < 0, f"Too many exception values (more than {MAX_EXCEPTION_ENTRIES})", ctx)
    if node is None:
        if optional:
            return out
        _throw(True, f"Item has no mapping for key '{key}'", ctx)
    assert node is not None
    vctx = _ctx(ctx, node, "value for", key or "")
    if isinstance(node, ScalarNode) and not _is_null(node):
        _throw(node.value == "", "Value must be non-empty", vctx)
        out.is_list = False
        out.item = str(node.value)
    elif isinstance(node, SequenceNode):
        out.is_list = True
        for v in node.value:
            out.items.append(_decode_entry(v, None, _ctx(vctx, v, "exception"), False, budget))
    return out


def _read_exceptions(cfg: ReadConfig, item: _Item, parent: Context, append: bool) -> list[ExceptionInfo]:
    exs = item.value("exceptions")
    result: list[ExceptionInfo] = []
    if exs is None or _is_null(exs):
        return result
    exes_ctx = _ctx(parent, exs, "exceptions")
    _throw(not isinstance(exs, SequenceNode), "Rule exceptions must be a sequence", exes_ctx)
    assert isinstance(exs, SequenceNode)
    for ex in exs.value:
        tmp = _ctx(exes_ctx, ex, "exception")
        _throw(not isinstance(ex, MappingNode), "Rule exception must be a mapping", tmp)
        exi = _Item(ex)
        name = exi.string("name", tmp) or ""
        ex_ctx = _ctx(parent, ex, "exception", name)
        _unknown_keys(cfg, exi, EXCEPTION_KEYS, ex_ctx, "exception")
        info = ExceptionInfo(name, ex_ctx)
        if any(e.name == name for e in result):
            cfg.res.add_warning(WarningCode.LOAD_EXCEPTION_NAME_NOT_UNIQUE,
                                f"Multiple definitions of exception '{name}' in the same rule", ex_ctx)
        info.fields = _decode_entry(exi.value("fields"), "fields", ex_ctx, append)
        info.comps = _decode_entry(exi.value("comps"), "comps", ex_ctx, True)
        vals = exi.value("values")
        if vals is not None:
            vals_ctx = _ctx(ex_ctx, vals, "exception values")
            _throw(not isinstance(vals, SequenceNode), "Rule exception values must be a sequence", vals_ctx)
            assert isinstance(vals, SequenceNode)
            budget = [MAX_EXCEPTION_ENTRIES]
            for v in vals.value:
                vctx = _ctx(vals_ctx, v, "exception value")
                info.values.append(_decode_entry(v, None, vctx, False, budget))
        elif append:
            cfg.res.add_warning(WarningCode.LOAD_APPEND_NO_VALUES, "Overriding/appending exception with no values",
                                ex_ctx)
        result.append(info)
    return result


def _unknown_keys(cfg: ReadConfig, item: _Item, allowed: frozenset[str], ctx: Context, kind: str) -> None:
    for key, (knode, _v) in item.keys.items():
        if key not in allowed:
            cfg.res.add_warning(WarningCode.LOAD_UNKNOWN_KEY, f"Unknown key '{key}' in {kind} item: it is ignored",
                                _ctx(ctx, knode, "value for", key))


def _priority(item: _Item, ctx: Context) -> Priority:
    text = item.string("priority", ctx) or ""
    node = item.value("priority")
    assert node is not None
    try:
        return Priority.parse(text)
    except ValueError:
        _throw(True, "Invalid priority", _ctx(ctx, node, "rule priority"))
        raise  # unreachable


def implicit_engine_version(n: int) -> Version:
    return Version(0, n, 0)


class Reader:
    """Reads one file's content into a shared collector (several files share one collector)."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def read(self, cfg: ReadConfig) -> bool:
        file_ctx = Context.of_file(cfg.name)
        try:
            docs = list(yaml.compose_all(cfg.content, Loader=_Loader))
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            problem = e.problem or e.context or "YAML parse error"
            if mark is not None:
                ctx = file_ctx.child("value for", "", mark.line, mark.column, mark.index)
                msg = f"yaml: error at line {mark.line + 1}, column {mark.column + 1}: {problem}"
            else:
                ctx, msg = file_ctx, f"yaml: {problem}"
            if e.context and e.problem and e.context != problem:
                cm = e.context_mark
                started = f" started at line {cm.line + 1}, column {cm.column + 1}" if cm is not None else ""
                msg += f" ({e.context}{started})"
            cfg.res.add_error(ErrorCode.LOAD_ERR_YAML_PARSE, msg, ctx)
            return False
        except yaml.YAMLError as e:  # reader errors (bad characters) carry a position too
            pos = getattr(e, "position", None)
            msg = "yaml: " + str(e).split("\n", 1)[0]
            ctx = file_ctx
            if isinstance(pos, int):
                line = cfg.content.count("\n", 0, pos)
                col = pos - (cfg.content.rfind("\n", 0, pos) + 1)
                ctx = file_ctx.child("value for", "", line, col, pos)
            cfg.res.add_error(ErrorCode.LOAD_ERR_YAML_PARSE, msg, ctx)
            return False
        except RecursionError:
            cfg.res.add_error(ErrorCode.LOAD_ERR_YAML_PARSE, "yaml: document nested too deeply", file_ctx)
            return False
        for doc in docs:
            if doc is None or _is_null(doc):
                continue
            try:
                _throw(not isinstance(doc, MappingNode | SequenceNode), "Rules content is not yaml", file_ctx)
                _throw(not isinstance(doc, SequenceNode), "Rules content is not yaml array of objects", file_ctx)
                for item in doc.value:
                    if not _is_null(item):
                        self.read_item(cfg, item, file_ctx)
            except RuleLoadError as e:
                cfg.res.add_error(e.code, e.message, e.ctx)
                return False
        return True

    # -- items ---------------------------------------------------------------------------------------

    def read_item(self, cfg: ReadConfig, node: Node, parent: Context) -> None:
        _throw(not isinstance(node, MappingNode),
               "Unexpected element type. Each element should be a yaml associative array.",
               _ctx(parent, node, "rules content item"))
        assert isinstance(node, MappingNode)
        item = _Item(node)
        handler: Callable[[ReadConfig, _Item, Context], None]
        if item.has("required_engine_version"):
            handler = self._engine_version
        elif item.has("required_plugin_versions"):
            handler = self._plugin_versions
        elif item.has("list"):
            handler = self._list
        elif item.has("macro"):
            handler = self._macro
        elif item.has("rule"):
            handler = self._rule
        else:
            cfg.res.add_warning(WarningCode.LOAD_UNKNOWN_ITEM, "Unknown top level item",
                                _ctx(parent, node, "rules content item"))
            return
        handler(cfg, item, parent)

    def _engine_version(self, cfg: ReadConfig, item: _Item, parent: Context) -> None:
        ctx = _ctx(parent, item.node, "required_engine_version")
        _unknown_keys(cfg, item, frozenset({"required_engine_version"}), ctx, "required_engine_version")
        text = item.string("required_engine_version", ctx) or ""
        if re.fullmatch(r"\+?[0-9]+", text.strip()) and int(text) <= 0xFFFFFFFF:
            version = implicit_engine_version(int(text))
        else:
            parsed = parse_version(text)
            _throw(parsed is None, f"Unable to parse engine version '{text}' as a semver string. "
                   "Expected \"x.y.z\" semver format.", ctx)
            assert parsed is not None
            version = parsed
        self.collector.define_engine_version(version, ctx)

    def _plugin_versions(self, cfg: ReadConfig, item: _Item, parent: Context) -> None:
        val = item.value("required_plugin_versions")
        assert val is not None
        ctx = _ctx(parent, val, "required plugin versions")
        _throw(not isinstance(val, SequenceNode), "Value of required_plugin_versions must be a sequence", ctx)
        assert isinstance(val, SequenceNode)
        for plugin in val.value:
            tmp = _ctx(ctx, plugin, "required plugin versions entry")
            _throw(not isinstance(plugin, MappingNode), "Plugin version must be a mapping", tmp)
            p = _Item(plugin)
            name = p.string("name", tmp) or ""
            pctx = _ctx(ctx, plugin, "required plugin versions entry", name)
            _unknown_keys(cfg, p, PLUGIN_KEYS, pctx, "required plugin versions entry")
            info = PluginVersionInfo(pctx)
            info.alternatives.append(PluginRequirement(name, p.string("version", pctx) or ""))
            alts = p.value("alternatives")
            if alts is not None:
                _throw(not isinstance(alts, SequenceNode), "Value of plugin version alternatives must be a sequence",
                       pctx)
                assert isinstance(alts, SequenceNode)
                for alt in alts.value:
                    actx = _ctx(pctx, alt, "required plugin versions alternative")
                    _throw(not isinstance(alt, MappingNode), "Plugin version alternative must be a mapping", actx)
                    a = _Item(alt)
                    aname = a.string("name", actx) or ""
                    actx = _ctx(pctx, alt, "required plugin versions alternative", aname)
                    _unknown_keys(cfg, a, ALT_KEYS, actx, "required plugin versions alternative")
                    info.alternatives.append(PluginRequirement(aname, a.string("version", actx) or ""))
            self.collector.define_plugin_versions(info)

    def _list(self, cfg: ReadConfig, item: _Item, parent: Context) -> None:
        tmp = _ctx(parent, item.node, "list")
        name = item.string("list", tmp) or ""
        ctx = _ctx(parent, item.node, "list", name)
        _unknown_keys(cfg, item, LIST_KEYS, ctx, "list")
        if not _BARESTR_RE.fullmatch(name):
            cfg.res.add_warning(WarningCode.LOAD_INVALID_LIST_NAME,
                                "List has an invalid name. List names should match a regular expression: "
                                + RGX_BARESTR, ctx)
        info = ListInfo(name, ctx)
        info.items = item.string_seq("items", ctx, optional=False) or []
        if _appends(cfg, item, "items", ctx):
            self.collector.append_list(info)
        else:
            self.collector.define_list(info)

    def _macro(self, cfg: ReadConfig, item: _Item, parent: Context) -> None:
        tmp = _ctx(parent, item.node, "macro")
        name = item.string("macro", tmp) or ""
        ctx = _ctx(parent, item.node, "macro", name)
        _unknown_keys(cfg, item, MACRO_KEYS, ctx, "macro")
        if not _IDENT_RE.fullmatch(name):
            cfg.res.add_warning(WarningCode.LOAD_INVALID_MACRO_NAME,
                                "Macro has an invalid name. Macro names should match a regular expression: "
                                + RGX_IDENTIFIER, ctx)
        info = MacroInfo(name, ctx)
        info.cond = item.string("condition", ctx) or ""
        cnode = item.value("condition")
        assert cnode is not None
        info.cond_ctx = _ctx(ctx, cnode, "macro condition")
        info.cond_pos = _cond_pos(cfg, cnode)
        if _appends(cfg, item, "condition", ctx):
            self.collector.append_macro(info)
        else:
            self.collector.define_macro(info)

    def _rule(self, cfg: ReadConfig, item: _Item, parent: Context) -> None:
        tmp = _ctx(parent, item.node, "rule")
        name = item.string("rule", tmp) or ""
        ctx = _ctx(parent, item.node, "rule", name)
        _unknown_keys(cfg, item, RULE_KEYS, ctx, "rule")
        has_append = bool(item.boolean("append", ctx, optional=True))
        if has_append:
            cfg.res.add_warning(WarningCode.LOAD_DEPRECATED_ITEM, WARNING_APPEND, ctx)
        o_app, o_rep = _decode_overrides(item, RULE_APPENDABLE, RULE_REPLACEABLE, ctx)
        _throw(has_append and bool(o_app or o_rep), ERROR_OVERRIDE_APPEND, ctx)
        if o_app or o_rep:
            self._rule_overrides(cfg, item, ctx, name, o_app, o_rep)
        elif has_append:
            upd = RuleUpdate(name, ctx)
            cnode = item.value("condition")
            if cnode is not None:
                upd.cond_ctx = _ctx(ctx, cnode, "rule condition")
                upd.cond = item.string("condition", ctx)
                upd.cond_pos = _cond_pos(cfg, cnode)
            if item.has("exceptions"):
                upd.exceptions = _read_exceptions(cfg, item, ctx, True)
            self.collector.append_rule(upd)
        elif not any(item.has(k) for k in ("condition", "output", "desc", "priority")):
            info = RuleInfo(name, ctx)
            enabled = item.boolean("enabled", ctx)
            info.enabled = bool(enabled)
            cfg.res.add_warning(WarningCode.LOAD_DEPRECATED_ITEM, WARNING_ENABLED, ctx)
            self.collector.enable_rule(info)
        else:
            info = RuleInfo(name, ctx)
            info.cond = item.string("condition", ctx) or ""
            cnode = item.value("condition")
            assert cnode is not None
            info.cond_ctx = _ctx(ctx, cnode, "rule condition")
            info.cond_pos = _cond_pos(cfg, cnode)
            info.output = (item.string("output", ctx) or "").strip()
            onode = item.value("output")
            assert onode is not None
            info.output_ctx = _ctx(ctx, onode, "rule output")
            info.desc = item.string("desc", ctx) or ""
            info.priority = _priority(item, ctx)
            info.source = item.string("source", ctx, optional=True) or "syscall"
            for key, attr in (("enabled", "enabled"), ("warn_evttypes", "warn_evttypes"),
                              ("skip-if-unknown-filter", "skip_if_unknown_filter"), ("capture", "capture")):
                v = item.boolean(key, ctx, optional=True)
                if v is not None:
                    setattr(info, attr, v)
            dur = item.uint("capture_duration", ctx, optional=True)
            if dur is not None:
                info.capture_duration = dur
            info.tags = set(item.string_seq("tags", ctx, optional=True) or [])
            info.exceptions = _read_exceptions(cfg, item, ctx, False)
            self.collector.define_rule(info)

    def _rule_overrides(self, cfg: ReadConfig, item: _Item, ctx: Context, name: str, o_app: set[str],
                        o_rep: set[str]) -> None:
        expected = {k for k in (*RULE_APPENDABLE, *RULE_REPLACEABLE) if item.has(k)}

        def check(overrides: set[str], kind: str, key: str) -> bool:
            if key not in overrides:
                return False
            _throw(key not in expected, f"An {kind} override for '{key}' was specified but '{key}' is not defined",
                   ctx)
            expected.discard(key)
            return True

        def fill(upd: RuleUpdate, overrides: set[str], kind: str, append: bool) -> None:
            if check(overrides, kind, "condition"):
                upd.cond = item.string("condition", ctx)
                cnode = item.value("condition")
                assert cnode is not None
                upd.cond_ctx = _ctx(ctx, cnode, "rule condition")
                upd.cond_pos = _cond_pos(cfg, cnode)
            if check(overrides, kind, "exceptions"):
                upd.exceptions = _read_exceptions(cfg, item, ctx, append)
            if check(overrides, kind, "output"):
                upd.output = item.string("output", ctx)
            if check(overrides, kind, "desc"):
                upd.desc = item.string("desc", ctx)
            if check(overrides, kind, "tags"):
                upd.tags = set(item.string_seq("tags", ctx, optional=True) or [])

        if o_app:
            upd = RuleUpdate(name, ctx)
            fill(upd, o_app, "append", True)
            self.collector.append_rule(upd)
        if o_rep:
            upd = RuleUpdate(name, ctx)
            fill(upd, o_rep, "replace", False)
            if check(o_rep, "replace", "priority"):
                upd.priority = _priority(item, ctx)
            for key, attr in (("enabled", "enabled"), ("warn_evttypes", "warn_evttypes"),
                              ("skip-if-unknown-filter", "skip_if_unknown_filter"), ("capture", "capture")):
                if check(o_rep, "replace", key):
                    setattr(upd, attr, item.boolean(key, ctx))
            if check(o_rep, "replace", "capture_duration"):
                upd.capture_duration = item.uint("capture_duration", ctx)
            self.collector.replace_rule(upd)
        for key in sorted(expected):
            knode = item.keys[key][0]
            _throw(True, f"Unexpected key '{key}': no corresponding entry under 'override' is defined.",
                   _ctx(ctx, knode, "overrides", key))
