"""Type checking against the field registry: what libsinsp's filter compiler refuses (unknown
fields, arguments, transformer misuse, operators a type does not support, values that do not
parse) is refused here with the same wording, and what it warns about is returned as warnings."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from tercel.engine.condition.ast import (
    ArgList,
    BinaryCheck,
    FieldRef,
    ListRef,
    Literal,
    Macro,
    Node,
    Operand,
    Transform,
    UnaryCheck,
    Value,
    ValueList,
)
from tercel.engine.condition.errors import ConditionError, UnknownFieldError
from tercel.engine.condition.walk import walk
from tercel.fields import registry
from tercel.fields.registry import ArgKind, ArgMode, FieldDef

STRING_TYPES = frozenset({"CHARBUF", "FSPATH", "FSRELPATH", "CHARBUFARRAY"})
# list fields only support these element types (libsinsp flt_is_comparable)
_LIST_TYPES = frozenset({"CHARBUF", "UINT64", "RELTIME", "ABSTIME", "BOOL", "IPADDR", "IPNET"})
_NUMERIC_OPS = frozenset({"=", "==", "!=", "<", "<=", ">", ">=", "in", "intersects", "exists"})
_BOOL_OPS = frozenset({"=", "==", "!=", "in", "intersects", "exists"})
_STRING_OPS = frozenset({"=", "==", "!=", "<", "<=", ">", ">=", "contains", "in", "exists", "icontains",
                         "startswith", "glob", "pmatch", "endswith", "intersects", "iglob", "regex"})
_BUFFER_OPS = frozenset({"=", "==", "!=", "contains", "in", "exists", "startswith", "endswith", "intersects",
                         "bcontains", "bstartswith"})
_IP_OPS = frozenset({"=", "==", "!=", "in", "exists", "intersects"})
_LIST_OPS = frozenset({"in", "exists", "intersects"})


class ConditionWarning(str):
    """A warning text that also knows where in the condition it applies (``offset``)."""

    offset: int

    def __new__(cls, text: str, offset: int = -1) -> ConditionWarning:
        w = super().__new__(cls, text)
        w.offset = offset
        return w


@dataclass(frozen=True, slots=True)
class Typed:
    """The type of an operand after its transformers: Falco type name and list-ness."""

    ftype: str
    is_list: bool
    name: str  # how libsinsp names it in messages (the field, or the transformer)


def resolve_field(ref: FieldRef) -> tuple[FieldDef, str | None]:
    """The field a reference denotes and its argument (bracketed or dotted)."""
    found = registry.resolve(ref.name)
    if found is None:
        raise UnknownFieldError(ref.name if ref.arg is None else f"{ref.name}[{ref.arg}]", ref.pos)
    fdef, dotted = found
    arg = ref.arg
    if dotted is not None:
        if arg is not None:
            raise ConditionError(f"filter_check called with nonexistent field {ref.name}[{arg}]", ref.pos)
        arg = dotted
    if arg is None:
        if fdef.arg is ArgMode.REQUIRED:
            raise ConditionError(f"filter {fdef.name} requires an argument", ref.pos)
    elif fdef.arg is ArgMode.NONE:
        raise ConditionError(f"filter {fdef.name} does not support arguments, got '{arg}'", ref.pos)
    elif fdef.arg_kind is ArgKind.INDEX and not arg.isdigit():
        raise ConditionError(f"filter {fdef.name} requires a numeric index argument, got '{arg}'", ref.pos)
    return fdef, arg


def _field_text(ref: FieldRef) -> str:
    return ref.name if ref.arg is None else f"{ref.name}[{ref.arg}]"


def operand_type(node: Operand, warnings: list[str] | None = None) -> Typed:
    if isinstance(node, FieldRef):
        fdef, _ = resolve_field(node)
        if warnings is not None and fdef.deprecated:
            warnings.append(ConditionWarning(f"field '{fdef.name}' is deprecated", node.pos))
        return Typed(fdef.ftype, fdef.is_list, _field_text(node))
    if isinstance(node, Literal):
        return Typed("CHARBUF", False, node.value)
    if isinstance(node, ArgList):
        # "(a, fd.name, evt.num)": a list of strings (values are converted to text)
        for item in node.items:
            if operand_type(item, warnings).is_list:
                raise ConditionError("list items of a transformer argument must be single values", node.pos)
        return Typed("CHARBUF", True, "list")
    if isinstance(node, Transform):
        return _transform_type(node, warnings)
    raise ConditionError(f"unexpected operand {node!r}", -1)


def _check_transformable(arg: Operand, tname: str) -> None:
    if isinstance(arg, FieldRef):
        fdef, _ = resolve_field(arg)
        if fdef.no_transformer:
            raise ConditionError(f"field '{_field_text(arg)}' does not support transformers", arg.pos)


def _transform_type(node: Transform, warnings: list[str] | None) -> Typed:
    name = node.name
    if node.arg is not None and name != "getopt":
        raise ConditionError(f"transformer '{name}' does not support field arguments", node.pos)
    if name == "val":
        (fld,) = node.args
        assert isinstance(fld, FieldRef)
        return operand_type(fld, warnings)
    if name in ("tolower", "toupper", "b64", "basename", "len"):
        (arg,) = node.args
        _check_transformable(arg, name)
        t = operand_type(arg, warnings)
        ok = {
            "tolower": t.ftype in STRING_TYPES, "toupper": t.ftype in STRING_TYPES,
            "basename": t.ftype in STRING_TYPES, "b64": t.ftype in STRING_TYPES or t.ftype == "BYTEBUF",
            "len": t.is_list or t.ftype in STRING_TYPES or t.ftype == "BYTEBUF",
        }[name]
        if not ok:
            raise ConditionError(
                f"can't add field transformer: type '{t.ftype}' is not supported by '{name}' transformer "
                f"applied on {'list ' if t.is_list else ''}field '{t.name}'", node.pos)
        if name == "len":
            return Typed("UINT64", False, f"len({t.name})")
        return Typed(t.ftype, t.is_list, f"{name}({t.name})")
    for a in node.args:
        if not isinstance(a, Literal | ArgList):
            _check_transformable(a, name)
    types = [operand_type(a, warnings) for a in node.args]
    if name == "join":
        if len(types) != 2:
            raise ConditionError("join() requires exactly 2 arguments: separator and list", node.pos)
        if types[0].is_list:
            raise ConditionError("join() first argument (separator) must be a single value, not a list", node.pos)
        if not types[1].is_list:
            raise ConditionError("join() second argument must be a list", node.pos)
        return Typed("CHARBUF", False, "join")
    if name == "concat":
        if len(types) < 2:
            raise ConditionError("concat() requires at least 2 arguments", node.pos)
        if any(t.ftype != "CHARBUF" or t.is_list for t in types):
            raise ConditionError("concat() arguments must be strings", node.pos)
        return Typed("CHARBUF", False, "concat")
    if name == "getopt":
        if len(types) != 2:
            raise ConditionError("getopt() requires exactly 2 arguments: args list and optstring", node.pos)
        if not types[0].is_list:
            raise ConditionError("getopt() first argument must be a list", node.pos)
        if types[1].is_list:
            raise ConditionError("getopt() second argument (optstring) must be a single value", node.pos)
        if types[0].ftype != "CHARBUF" or types[1].ftype != "CHARBUF":
            raise ConditionError("getopt() arguments must be strings", node.pos)
        if node.arg is not None and len(node.arg) != 1:
            raise ConditionError("getopt() field argument must be a single option character", node.pos)
        return Typed("CHARBUF", node.arg is None, "getopt")
    raise ConditionError(f"unknown transformer '{name}'", node.pos)


def _op_error(op: str, t: Typed) -> str | None:
    """libsinsp's flt_is_comparable: None when ``op`` applies to the type."""
    if op == "exists":
        return None
    op = "=" if op == "==" else op
    if t.is_list:
        if t.ftype not in _LIST_TYPES:
            return f"list filters are not supported for type '{t.ftype}'"
        return None if op in _LIST_OPS else f"'{op}' operator not supported list filters"
    kind = registry.value_kind(t.ftype) if t.ftype not in STRING_TYPES else "str"
    if kind in ("int", "double"):
        return None if op in _NUMERIC_OPS else f"'{op}' operator not supported for numeric filters"
    if kind == "bool":
        return None if op in _BOOL_OPS else f"'{op}' operator not supported for numeric filters"
    if kind in ("ip", "ipnet"):
        return None if op in _IP_OPS else f"'{op}' operator not supported for ip address and network filters"
    if kind == "str":
        return None if op in _STRING_OPS else f"'{op}' operator not supported for string filters"
    if kind == "bytes":
        return None if op in _BUFFER_OPS else f"'{op}' operator not supported for buffer filters"
    return f"'{op}' operator not supported for type '{t.ftype}'"


_UNSIGNED_BITS = {
    "UINT8": 8, "FLAGS8": 8, "ENUMFLAGS8": 8, "SIGTYPE": 8, "L4PROTO": 8, "UINT16": 16, "FLAGS16": 16,
    "ENUMFLAGS16": 16, "PORT": 16, "SYSCALLID": 16, "UINT32": 32, "FLAGS32": 32, "ENUMFLAGS32": 32, "UID": 32,
    "GID": 32, "MODE": 32, "UINT64": 64, "RELTIME": 64, "ABSTIME": 64,
}
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


# what RE2 in POSIX mode (libsinsp's regex operator) refuses but Python's re would accept:
# lookarounds, backreferences, Perl classes and word boundaries
_RE2_POSIX_REFUSES = re.compile(r"\(\?<?[=!]|\\[1-9dDsSwWbB]")


def check_regex(pattern: str, offset: int) -> None:
    m = _RE2_POSIX_REFUSES.search(pattern)
    if m is not None:
        raise ConditionError(f"invalid regex pattern: '{m.group(0)}' is not POSIX syntax", offset)
    try:
        re.compile(pattern)
    except re.error as e:
        raise ConditionError(f"invalid regex pattern: {e}", offset) from None


def parse_int(text: str, ftype: str) -> int:
    t = text.strip()
    try:
        if t[:1] in "+-" and t[1:3].lower() == "0x":
            return int(t[0] + str(int(t[3:], 16)))
        if t[:2].lower() == "0x":
            return int(t[2:], 16)
        return int(t, 10)
    except ValueError:
        raise ValueError(f"'{text}' is not a valid number") from None


def parse_value(text: str, ftype: str, op: str) -> object:
    """A constant right-hand value in the Python form extractors return for ``ftype``; raises
    ValueError with libsinsp's wording when it does not parse."""
    if op in ("bcontains", "bstartswith"):
        if not _HEX.fullmatch(text):
            raise ValueError("bcontains and bstartswith operator support hex strings only")
        return bytes.fromhex(text)
    if ftype in STRING_TYPES:
        return text
    kind = registry.value_kind(ftype)
    if kind == "int":
        n = parse_int(text, ftype)
        bits = _UNSIGNED_BITS.get(ftype)
        # libsinsp stores the value at the field's width: "-1" on a UINT32 is 4294967295
        return n & ((1 << bits) - 1) if bits is not None and n < 0 else n
    if kind == "double":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a valid number") from None
    if kind == "bool":
        if text == "true":
            return True
        if text == "false":
            return False
        raise ValueError(f"unrecognized boolean value '{text}'")
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise ValueError(f"unrecognized IP address '{text}'") from None
    if kind == "ipnet":
        try:
            return ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"unrecognized IP network '{text}'") from None
    if kind == "bytes":
        return text.encode("utf-8", "surrogateescape")
    return text


_TRANSFORMER_WORDS = ("val", "tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt")
_RGX_SPECIAL = set(".+*?^$()[]{}|\\")


def _value_warnings(op: str, v: str, warnings: list[str], pos: int, field: str) -> None:
    nospace = "".join(v.split())
    # Falco's filter_warning_resolver: only k8s audit / json fields may hold "<NA>" as text
    if v == "<NA>" and field.startswith(("ka.", "jevt.")) and op in ("=", "==", "!=", "in", "intersects"):
        warnings.append(ConditionWarning(
            f"comparing '{field}' with '<NA>' is unsafe: a missing value never equals it", pos))
    if op == "regex" and not _regex_needs_regex(v):
        warnings.append(ConditionWarning(
            f"regex check with '{v}' may be optimized with simpler operators such as "
            "'=', 'contains', 'startswith', 'endswith'", pos))
    if "." in nospace and registry.resolve(nospace.split("[", 1)[0]) is not None:
        warnings.append(ConditionWarning(f"'{v}' may be a valid field misused as a const string value", pos))
    for t in _TRANSFORMER_WORDS:
        if len(nospace) >= len(t) + 2 and nospace.startswith(t + "(") and nospace.endswith(")"):
            warnings.append(ConditionWarning(
                f"'{v}' may be a valid field transformer misused as a const string value", pos))


def _regex_needs_regex(v: str) -> bool:
    n = len(v)
    i = 0
    while i < n:
        if (i == 0 and v[i] == "^") or (i == n - 1 and v[i] == "$"):
            i += 1
            continue
        if ((i == 0 and n > 1) or i == n - 2) and v[i] == "." and i + 1 < n and v[i + 1] in "+*?":
            i += 2
            continue
        if v[i] in _RGX_SPECIAL:
            return True
        i += 1
    return False


def rhs_values(node: BinaryCheck) -> tuple[str, ...] | None:
    """The constant right-hand values, or None when the right side is a field."""
    r = node.right
    if isinstance(r, Value):
        return (r.value,)
    if isinstance(r, ValueList):
        return r.items
    if isinstance(r, ListRef):  # an undefined list name is a single value, as in libsinsp
        return (r.name,)
    return None


def _innermost_fields(node: Operand) -> list[FieldRef]:
    if isinstance(node, FieldRef):
        return [node]
    if isinstance(node, Transform):
        return [f for a in node.args for f in _innermost_fields(a)]
    if isinstance(node, ArgList):
        return [f for a in node.items for f in _innermost_fields(a)]
    return []


def check_node(node: BinaryCheck | UnaryCheck, warnings: list[str]) -> Typed:
    """Type-check one check; returns the left operand's type."""
    left = operand_type(node.left, warnings)
    err = _op_error(node.op, left)
    if err is not None:
        raise ConditionError(f"filter error: {err}", node.pos)
    if isinstance(node, UnaryCheck):
        return left
    values = rhs_values(node)
    if values is None:
        right_node = node.right
        assert isinstance(right_node, Transform)
        if node.op in ("pmatch", "regex"):
            raise ConditionError(f"operator '{node.op}' doesn't support right-hand side fields", node.pos)
        if left.ftype == "IPNET":
            raise ConditionError("field type 'IPNET' doesn't support right-hand side fields", node.pos)
        for f in _innermost_fields(node.left):
            if resolve_field(f)[0].no_rhs:
                raise ConditionError(f"field '{_field_text(f)}' doesn't support right-hand side fields", node.pos)
        for f in _innermost_fields(right_node):
            if resolve_field(f)[0].no_rhs:
                raise ConditionError(f"field '{_field_text(f)}' can't be used as a right-hand side field", f.pos)
        right = operand_type(right_node, warnings)
        if right.ftype != left.ftype or right.is_list != left.is_list:
            raise ConditionError(
                f"field '{left.name}' has type '{left.ftype}{' (list)' if left.is_list else ''}' while the "
                f"right-hand side field '{right.name}' has incompatible type "
                f"'{right.ftype}{' (list)' if right.is_list else ''}'", node.pos)
        return left
    if node.op in ("regex",):
        for v in values:
            check_regex(v, node.right.pos)
    vtype = left.ftype
    for v in values:
        try:
            parse_value(v, vtype, node.op)
        except ValueError as e:
            raise ConditionError(f"filter error: {e}", node.right.pos) from None
        _value_warnings(node.op, v, warnings, node.right.pos, left.name)
    return left


def validate(node: Node) -> list[str]:
    """Resolve every field and check every operator and value; returns warnings."""
    warnings: list[str] = []
    for n in walk(node):
        if isinstance(n, BinaryCheck | UnaryCheck):
            check_node(n, warnings)
        elif isinstance(n, Macro):
            raise ConditionError(f"filter error: unexpected identifier '{n.name}'", n.pos)
    # one warning per text, in order
    return list(dict.fromkeys(warnings))
