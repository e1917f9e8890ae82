"""Print a condition tree back as condition text that parses to the same tree."""

from __future__ import annotations

import re

from tercel.engine.condition.ast import (
    And,
    ArgList,
    BinaryCheck,
    FieldRef,
    ListRef,
    Literal,
    Macro,
    Node,
    Not,
    Operand,
    Or,
    Rhs,
    Transform,
    UnaryCheck,
    Value,
    ValueList,
)

_BARE = re.compile("[^()\"'\\s=,]+")
_FIELDARG_BARE = re.compile("[^][\"'\\s]+")
_CTRL = {"\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"'}
_TRANSFORMER_PREFIXES = ("val(", "tolower(", "toupper(", "b64(", "basename(", "len(", "join(",
                         "concat(", "getopt(")
_MODIFIER_WORDS = ("oneof", "anyof", "allof")


def quote(value: str) -> str:
    """A double-quoted token that the lexer unescapes back to ``value``."""
    return '"' + "".join(_CTRL.get(ch, ch) for ch in value) + '"'


def _bare_ok(value: str) -> bool:
    return (_BARE.fullmatch(value) is not None and "\b" not in value
            and value not in _MODIFIER_WORDS and not value.startswith(_TRANSFORMER_PREFIXES))


def value_text(value: str) -> str:
    """A right-hand string value, bare when the lexer reads it back unchanged."""
    return value if _bare_ok(value) else quote(value)


def _arg_text(arg: str) -> str:
    return arg if _FIELDARG_BARE.fullmatch(arg) and "\b" not in arg else quote(arg)


def _operand(node: Operand) -> str:
    if isinstance(node, FieldRef):
        return node.name if node.arg is None else f"{node.name}[{_arg_text(node.arg)}]"
    if isinstance(node, Transform):
        inner = ", ".join(_operand(a) for a in node.args)
        tail = "" if node.arg is None else f"[{_arg_text(node.arg)}]"
        return f"{node.name}({inner}){tail}"
    if isinstance(node, Literal):
        return quote(node.value)
    if isinstance(node, ArgList):
        return "(" + ", ".join(_operand(a) for a in node.items) + ")"
    raise TypeError(f"not an operand: {node!r}")


def _rhs(node: Rhs, numeric: bool) -> str:
    if isinstance(node, Value):
        return node.value if numeric else value_text(node.value)
    if isinstance(node, ValueList):
        return "(" + ", ".join(value_text(v) for v in node.items) + ")"
    if isinstance(node, ListRef):
        return node.name
    return _operand(node)


def to_text(node: Node) -> str:
    """Condition text for a tree: ``parse(to_text(n)) == n`` for every tree the parser can
    produce (macro names must not be ``not``; numeric values must be number tokens)."""
    if isinstance(node, And):
        return " and ".join(
            f"({to_text(c)})" if isinstance(c, And | Or) else to_text(c) for c in node.children)
    if isinstance(node, Or):
        return " or ".join(f"({to_text(c)})" if isinstance(c, Or) else to_text(c) for c in node.children)
    if isinstance(node, Not):
        c = node.child
        return f"not ({to_text(c)})" if isinstance(c, And | Or | Not) else f"not {to_text(c)}"
    if isinstance(node, Macro):
        return node.name
    if isinstance(node, UnaryCheck):
        return f"{_operand(node.left)} {node.op}"
    if isinstance(node, BinaryCheck):
        mod = f"{node.mod} " if node.mod else ""
        numeric = node.op in ("<", "<=", ">", ">=")
        return f"{_operand(node.left)} {node.op} {mod}{_rhs(node.right, numeric)}"
    raise TypeError(f"not a condition node: {node!r}")
