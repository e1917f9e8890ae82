"""Compile a checked condition tree into one Python function ``fn(event) -> bool``.

The boolean structure becomes a single function built with the ``ast`` module (no rule text
is ever formatted into source: the generated code only names synthetic variables, and every
constant lives in the function's namespace). The commonest checks are inlined in it; the rest
are closures with everything precomputed (sets for ``in``, lowered needles for ``icontains``,
compiled globs and regexes, parsed networks, path-prefix sets). ``and``/``or`` short-circuit.

Semantics (libsinsp's): a field without a value makes every check false except through
``not``; list fields support ``in`` (every element in the set), ``intersects`` (some element)
and ``exists``; ancestor fields used without an index (``proc.aname = bash``) match when any
ancestor does.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import re
from collections.abc import Callable, Sequence
from typing import Any

from tercel.engine.condition import values as rt
from tercel.engine.condition.ast import (
    And,
    ArgList,
    BinaryCheck,
    FieldRef,
    Literal,
    Macro,
    Node,
    Not,
    Operand,
    Or,
    Transform,
    UnaryCheck,
)
from tercel.engine.condition.checker import (
    STRING_TYPES,
    Typed,
    check_node,
    parse_value,
    resolve_field,
    rhs_values,
)
from tercel.engine.condition.errors import ConditionError
from tercel.fields import registry
from tercel.fields.registry import ArgKind, ArgMode

Getter = Callable[[Any], Any]
Pred = Callable[[Any], bool]
Check = Callable[[Any], bool]


def _kind(ftype: str) -> str:
    return "str" if ftype in STRING_TYPES else registry.value_kind(ftype)


# --- operands -------------------------------------------------------------------------------

def operand_getter(node: Operand) -> tuple[Getter, bool]:
    """A function event -> value (None when missing), and whether it may return a tuple of
    alternatives for a single-valued type (ancestor fields used without an index)."""
    if isinstance(node, FieldRef):
        fdef, arg = resolve_field(node)
        # ancestor fields without an index, and the filter-only "either end" fields (fd.ip,
        # fd.port, fd.net...), extract a tuple of alternatives: a check matches if one does
        any_of = not fdef.is_list and (fdef.filter_only or (
            arg is None and fdef.arg is ArgMode.OPTIONAL and fdef.arg_kind is ArgKind.INDEX))
        return registry.make_extractor(fdef, arg), any_of
    if isinstance(node, Literal):
        const = node.value
        return (lambda _e: const), False
    if isinstance(node, ArgList):
        getters = [operand_getter(i)[0] for i in node.items]

        as_text = rt.as_text

        def arglist(e: Any) -> Any:
            out = tuple(g(e) for g in getters)
            return None if None in out else tuple(as_text(v) for v in out)
        return arglist, False
    assert isinstance(node, Transform)
    name = node.name
    if name == "val":
        return operand_getter(node.args[0])
    if name in ("tolower", "toupper", "basename", "b64"):
        inner, any_of = operand_getter(node.args[0])
        fn = {"tolower": rt.ascii_lower, "toupper": rt.ascii_upper, "basename": rt.basename,
              "b64": rt.b64decode}[name]
        map_value = rt.map_value

        def single(e: Any) -> Any:
            v = inner(e)
            return None if v is None else map_value(fn, v)
        return single, any_of
    if name == "len":
        inner, _ = operand_getter(node.args[0])
        byte_len = rt.byte_len

        def length(e: Any) -> Any:
            v = inner(e)
            if v is None:
                return None
            return len(v) if type(v) is tuple else byte_len(v)
        return length, False
    getters = [operand_getter(a)[0] for a in node.args]
    if name == "concat":
        def concat(e: Any) -> Any:
            parts = [g(e) for g in getters]
            return None if None in parts else "".join(parts)
        return concat, False
    if name == "join":
        gsep, glist = getters

        def join(e: Any) -> Any:
            sep, lst = gsep(e), glist(e)
            if sep is None or lst is None:
                return None
            if type(lst) is not tuple:
                lst = (lst,)
            return sep.join(x if isinstance(x, str) else str(x) for x in lst)
        return join, False
    if name == "getopt":
        gargs, gopt = getters
        sel = node.arg

        def getopt(e: Any) -> Any:
            args, opt = gargs(e), gopt(e)
            if args is None or opt is None:
                return None
            if type(args) is not tuple:
                args = (args,)
            return rt.getopt(args, opt, sel)
        return getopt, False
    raise ConditionError(f"unknown transformer '{name}'", node.pos)


# --- predicates on one extracted value ---------------------------------------------------------

def scalar_pred(op: str, kind: str, vals: Sequence[Any]) -> Pred:
    """A test of one (non-missing, single) value against constant typed values."""
    if op == "==":
        op = "="
    if op == "exists":
        return lambda _x: True
    if op in ("in", "intersects"):
        if kind == "ipnet":
            return rt.NetSet(vals).match
        members = frozenset(vals)
        return lambda x: x in members
    if op == "pmatch":
        prefixes = rt.PrefixSet(vals)
        return prefixes.match
    v = vals[0]
    if op in ("=", "!="):
        if kind == "ipnet":
            netset = rt.NetSet((v,)).match
            if op == "=":
                return netset
            return lambda x: not netset(x)
        if op == "=":
            return lambda x: x == v
        return lambda x: x != v
    if op == "<":
        return lambda x: x < v
    if op == "<=":
        return lambda x: x <= v
    if op == ">":
        return lambda x: x > v
    if op == ">=":
        return lambda x: x >= v
    if op in ("contains", "bcontains"):
        return lambda x: v in x
    if op == "icontains":
        needle, lower = rt.ascii_lower(v), rt.ascii_lower
        return lambda x: needle in lower(x)
    if op in ("startswith", "bstartswith"):
        return lambda x: x.startswith(v)
    if op == "endswith":
        return lambda x: x.endswith(v)
    if op in ("glob", "iglob"):
        rx = rt.glob_regex(v, op == "iglob")
        return lambda x: rx.fullmatch(x) is not None
    if op == "regex":
        rxr = re.compile(v)
        return lambda x: rxr.fullmatch(x) is not None
    raise ConditionError(f"unsupported operator '{op}'", -1)


def modifier_pred(op: str, mod: str, kind: str, vals: Sequence[Any]) -> Pred:
    if op == "==":
        op = "="
    if not vals:
        return lambda _x: False
    if kind in ("ip", "ipnet") and op not in ("=", "!=", "regex"):
        op = "="
    if kind != "ipnet":
        members = frozenset(vals)
        if mod == "anyof" and op == "=":
            return lambda x: x in members
        if mod == "allof" and op == "!=":
            return lambda x: x not in members
    preds = tuple(scalar_pred(op, kind, (v,)) for v in vals)
    if mod == "anyof":
        return lambda x: any(p(x) for p in preds)
    if mod == "allof":
        return lambda x: all(p(x) for p in preds)
    return lambda x: sum(1 for p in preds if p(x)) == 1  # oneof: exactly one


def list_pred(op: str, kind: str, vals: Sequence[Any]) -> Pred:
    """A test of a list value (tuple) for ``in`` / ``intersects`` / ``exists``."""
    if op == "exists":
        return lambda _x: True
    elem = scalar_pred("in", kind, vals)
    if op == "in":
        return lambda xs: all(elem(x) for x in xs)
    return lambda xs: any(elem(x) for x in xs)


# --- checks -----------------------------------------------------------------------------------

class _Leaf:
    """How one check is evaluated: either an inline pattern (extractor + constant) for the
    code generator, or a closure."""

    __slots__ = ("fn", "inline", "ext", "const", "pred", "key")

    def __init__(self, fn: Check, inline: str | None = None, ext: Getter | None = None, const: Any = None,
                 pred: Pred | None = None, key: tuple[str, str | None] | None = None):
        self.fn = fn
        self.inline = inline
        self.ext = ext
        self.const = const
        self.pred = pred  # plain field: the check is ``x is not None and pred(x)`` on ext's value
        self.key = key  # plain field: (field name, argument), the same value for the same key


_INLINE_OPS = {"=": "eq", "==": "eq", "!=": "ne", "in": "in", "intersects": "in", "contains": "contains",
               "startswith": "startswith", "endswith": "endswith", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_INLINE_CMP: dict[str, type[ast.cmpop]] = {"ne": ast.NotEq, "lt": ast.Lt, "le": ast.LtE, "gt": ast.Gt,
                                            "ge": ast.GtE}


def _leaf(node: BinaryCheck | UnaryCheck) -> _Leaf:
    left_t = check_node(node, [])
    kind = _kind(left_t.ftype)
    get, any_of = operand_getter(node.left)
    is_list = left_t.is_list
    plain_field = isinstance(node.left, FieldRef) and not any_of and not is_list
    key = None
    if plain_field:
        assert isinstance(node.left, FieldRef)
        fdef, farg = resolve_field(node.left)
        key = (fdef.name, farg)

    if isinstance(node, UnaryCheck):
        def exists(e: Any) -> bool:
            return get(e) is not None
        return _Leaf(exists, "exists" if plain_field else None, get, key=key)

    texts = rhs_values(node)
    op = node.op
    if texts is None:
        return _Leaf(_field_rhs_check(node, left_t, get, any_of))
    vals = [parse_value(t, left_t.ftype, op) for t in texts]
    if is_list:
        pred = list_pred(op, kind, vals)

        def list_check(e: Any) -> bool:
            x = get(e)
            if x is None:
                return False
            return pred(x if type(x) is tuple else (x,))
        return _Leaf(list_check)
    if node.mod is not None:
        pred = modifier_pred(op, node.mod, kind, vals)
    else:
        pred = scalar_pred(op, kind, vals)
    inline = None
    const: Any = None
    if plain_field and node.mod is None and kind != "ipnet":
        inline = _INLINE_OPS.get(op)
        if inline == "in":
            const = frozenset(vals)
        elif inline is not None:
            const = vals[0]
            if inline in ("contains", "startswith", "endswith") and kind not in ("str", "bytes"):
                inline = None
    if any_of and node.mod is None and kind != "ipnet" and op in ("=", "==", "in", "intersects"):
        # any ancestor equal to / in the constants: one set operation
        members = frozenset(vals)

        def any_in(e: Any) -> bool:
            x = get(e)
            if x is None:
                return False
            if type(x) is tuple:
                return not members.isdisjoint(x)
            return x in members
        return _Leaf(any_in)
    if any_of:
        def any_check(e: Any) -> bool:
            x = get(e)
            if x is None:
                return False
            if type(x) is tuple:
                return any(pred(i) for i in x)
            return pred(x)
        return _Leaf(any_check)

    def check(e: Any) -> bool:
        x = get(e)
        return x is not None and pred(x)
    return _Leaf(check, inline, get, const, pred if plain_field else None, key)


def _field_rhs_check(node: BinaryCheck, left_t: Typed, get: Getter, any_of: bool) -> Check:
    """Field-to-field comparison (``proc.name = val(proc.pname)``): both sides per event."""
    assert isinstance(node.right, Transform)
    rget, _ = operand_getter(node.right)
    op = "=" if node.op == "==" else node.op
    kind = _kind(left_t.ftype)
    mod = node.mod

    def compare(x: Any, y: Any) -> bool:
        ys = y if type(y) is tuple else (y,)
        if left_t.is_list:
            return list_pred(op, kind, ys)(x if type(x) is tuple else (x,))
        if op in ("in", "intersects") or mod is not None:
            if mod is not None:
                return modifier_pred(op, mod, kind, ys)(x)
            return x in ys
        if op in ("glob", "iglob"):
            return rt.cached_glob(y, op == "iglob").fullmatch(x) is not None
        return scalar_pred(op, kind, (y,))(x)

    def check(e: Any) -> bool:
        x = get(e)
        if x is None:
            return False
        y = rget(e)
        if y is None:
            return False
        if any_of and type(x) is tuple:
            return any(compare(i, y) for i in x)
        return compare(x, y)
    return check


# --- code generation --------------------------------------------------------------------------

class _Gen:
    def __init__(self) -> None:
        self.ns: dict[str, Any] = {}
        self.ids = itertools.count()

    def name(self, prefix: str, value: Any) -> ast.Name:
        n = f"_{prefix}{next(self.ids)}"
        self.ns[n] = value
        return ast.Name(n, ast.Load())

    def expr(self, node: Node) -> ast.expr:
        if isinstance(node, And | Or):
            op: ast.boolop = ast.And() if isinstance(node, And) else ast.Or()
            return ast.BoolOp(op, [self.expr(c) for c in node.children])
        if isinstance(node, Not):
            return ast.UnaryOp(ast.Not(), self.expr(node.child))
        if isinstance(node, Macro):
            raise ConditionError(f"filter error: unexpected identifier '{node.name}'", node.pos)
        leaf = _leaf(node)
        evt = ast.Name("e", ast.Load())
        if leaf.inline is None:
            return ast.Call(self.name("p", leaf.fn), [evt], [])
        call = ast.Call(self.name("x", leaf.ext), [evt], [])
        if leaf.inline == "exists":
            return ast.Compare(call, [ast.IsNot()], [ast.Constant(None)])
        const = self.name("v", leaf.const)
        if leaf.inline == "eq":
            return ast.Compare(call, [ast.Eq()], [const])
        if leaf.inline == "in":
            return ast.Compare(call, [ast.In()], [const])
        tmp = f"_t{next(self.ids)}"
        present = ast.Compare(ast.NamedExpr(ast.Name(tmp, ast.Store()), call), [ast.IsNot()], [ast.Constant(None)])
        val = ast.Name(tmp, ast.Load())
        test: ast.expr
        if leaf.inline in _INLINE_CMP:
            test = ast.Compare(val, [_INLINE_CMP[leaf.inline]()], [const])
        elif leaf.inline == "contains":
            test = ast.Compare(const, [ast.In()], [val])
        else:  # startswith / endswith
            test = ast.Call(ast.Attribute(val, leaf.inline, ast.Load()), [const], [])
        return ast.BoolOp(ast.And(), [present, test])


def _closures(node: Node) -> Check:
    """The same function as closures (for trees too deep for the code generator)."""
    if isinstance(node, And | Or):
        fns = tuple(_closures(c) for c in node.children)
        if isinstance(node, And):
            return lambda e: all(f(e) for f in fns)
        return lambda e: any(f(e) for f in fns)
    if isinstance(node, Not):
        inner = _closures(node.child)
        return lambda e: not inner(e)
    if isinstance(node, Macro):
        raise ConditionError(f"filter error: unexpected identifier '{node.name}'", node.pos)
    return _leaf(node).fn


def compile_condition(node: Node) -> Check:
    """Type-check and compile an expanded condition; raises ConditionError."""
    gen = _Gen()
    body = gen.expr(node)
    func = ast.FunctionDef(
        name="_condition",
        args=ast.arguments(posonlyargs=[], args=[ast.arg("e")], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=[ast.Return(body)], decorator_list=[], returns=None)
    module = ast.fix_missing_locations(ast.Module([func], type_ignores=[]))
    try:
        code = builtins.compile(module, "<condition>", "exec")
    except (RecursionError, MemoryError, SyntaxError):
        return _closures(node)
    exec(code, gen.ns)  # generated from the tree: no rule text is part of the code
    fn: Check = gen.ns["_condition"]
    return fn


# --- several rules in one function ------------------------------------------------------------

class _BucketGen(_Gen):
    """Code for the conditions of several rules in one function: each field is extracted at most
    once per event (one local per field, filled on first use), and checks of ``evt.type`` are
    decided up front when every event the function sees has the same type name."""

    def __init__(self, type_name: str | None) -> None:
        super().__init__()
        self.type_name = type_name
        self.cache: dict[tuple[str, str | None], str] = {}

    def value(self, leaf: _Leaf) -> ast.expr:
        assert leaf.key is not None
        var = self.cache.get(leaf.key)
        if var is None:
            var = f"_c{next(self.ids)}"
            self.cache[leaf.key] = var
            self.ns["_x" + var] = leaf.ext
        # (_c := _x_c(e)) if _c is ... else _c     (Ellipsis: not extracted yet)
        return ast.IfExp(
            ast.Compare(ast.Name(var, ast.Load()), [ast.Is()], [ast.Constant(...)]),
            ast.NamedExpr(ast.Name(var, ast.Store()),
                          ast.Call(ast.Name("_x" + var, ast.Load()), [ast.Name("e", ast.Load())], [])),
            ast.Name(var, ast.Load()))

    def cond(self, node: Node) -> ast.expr | bool:
        """The test of a (sub)condition, or a bool when it is decided for this bucket."""
        if isinstance(node, And | Or):
            is_and = isinstance(node, And)
            parts: list[ast.expr] = []
            for c in node.children:
                x = self.cond(c)
                if x is (not is_and):  # False in an and, True in an or: decides the whole
                    return not is_and
                if x is not is_and:
                    parts.append(x)  # type: ignore[arg-type]
            if not parts:
                return is_and
            if len(parts) == 1:
                return parts[0]
            return ast.BoolOp(ast.And() if is_and else ast.Or(), parts)
        if isinstance(node, Not):
            x = self.cond(node.child)
            if isinstance(x, bool):
                return not x
            return ast.UnaryOp(ast.Not(), x)
        if isinstance(node, Macro):
            raise ConditionError(f"filter error: unexpected identifier '{node.name}'", node.pos)
        leaf = _leaf(node)
        if leaf.key is None:
            return ast.Call(self.name("p", leaf.fn), [ast.Name("e", ast.Load())], [])
        if leaf.key == ("evt.type", None) and self.type_name is not None and leaf.pred is not None:
            return bool(leaf.pred(self.type_name))
        val = self.value(leaf)
        if leaf.inline == "exists":
            return ast.Compare(val, [ast.IsNot()], [ast.Constant(None)])
        if leaf.inline == "eq":
            return ast.Compare(val, [ast.Eq()], [self.name("v", leaf.const)])
        if leaf.inline == "in":
            return ast.Compare(val, [ast.In()], [self.name("v", leaf.const)])
        tmp = f"_t{next(self.ids)}"
        present = ast.Compare(ast.NamedExpr(ast.Name(tmp, ast.Store()), val), [ast.IsNot()], [ast.Constant(None)])
        t = ast.Name(tmp, ast.Load())
        test: ast.expr
        if leaf.inline in _INLINE_CMP:
            test = ast.Compare(t, [_INLINE_CMP[leaf.inline]()], [self.name("v", leaf.const)])
        elif leaf.inline == "contains":
            test = ast.Compare(self.name("v", leaf.const), [ast.In()], [t])
        elif leaf.inline in ("startswith", "endswith"):
            test = ast.Call(ast.Attribute(t, leaf.inline, ast.Load()), [self.name("v", leaf.const)], [])
        else:
            assert leaf.pred is not None
            test = ast.Call(self.name("q", leaf.pred), [t], [])
        return ast.BoolOp(ast.And(), [present, test])


def compile_bucket(conds: Sequence[Node | Check], type_name: str | None, first: bool,
                   on_error: Callable[[], None]) -> Callable[[Any], Any]:
    """One function for the rules of one event type, in order. ``conds`` holds each rule's
    expanded condition (or, for a rule without one, its predicate). With ``first`` the function
    returns the index of the first rule that matches, or -1; otherwise the list of the indices
    of all that match. A rule whose check raises counts one ``on_error()`` and does not match.
    ``type_name``: the evt.type of every event the function will see (None: unknown).
    Raises ConditionError, or RecursionError for trees too deep to compile."""
    gen = _BucketGen(type_name)
    gen.ns["_err"] = on_error
    e = ast.Name("e", ast.Load())
    body: list[ast.stmt] = []
    for k, c in enumerate(conds):
        test: ast.expr | bool
        test = ast.Call(gen.name("r", c), [e], []) if callable(c) else gen.cond(c)
        if test is False:
            continue
        hit: ast.stmt = (ast.Return(ast.Constant(k)) if first else
                         ast.Expr(ast.Call(ast.Attribute(ast.Name("_hits", ast.Load()), "append", ast.Load()),
                                           [ast.Constant(k)], [])))
        if test is True:
            body.append(hit)
            if first:
                break
            continue
        body.append(ast.Try(
            body=[ast.If(test, [hit], [])],
            handlers=[ast.ExceptHandler(ast.Name("Exception", ast.Load()), None,
                                        [ast.Expr(ast.Call(ast.Name("_err", ast.Load()), [], []))])],
            orelse=[], finalbody=[]))
    init: list[ast.stmt] = [ast.Assign([ast.Name(v, ast.Store())], ast.Constant(...)) for v in gen.cache.values()]
    if not first:
        init.append(ast.Assign([ast.Name("_hits", ast.Store())], ast.List([], ast.Load())))
    end: ast.stmt = ast.Return(ast.Constant(-1) if first else ast.Name("_hits", ast.Load()))
    func = ast.FunctionDef(
        name="_bucket",
        args=ast.arguments(posonlyargs=[], args=[ast.arg("e")], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=[*init, *body, end], decorator_list=[], returns=None)
    module = ast.fix_missing_locations(ast.Module([func], type_ignores=[]))
    code = builtins.compile(module, "<rules>", "exec")
    exec(code, gen.ns)  # generated from the trees: no rule text is part of the code
    fn: Callable[[Any], Any] = gen.ns["_bucket"]
    return fn
