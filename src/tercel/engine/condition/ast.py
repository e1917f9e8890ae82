"""The condition tree. Nodes are frozen and compare by structure only: positions (``pos``, the
0-based offset of the node in the text it was parsed from) take no part in equality, so a
printed-and-reparsed tree equals the original."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Macro:
    """A bare identifier in check position: a macro reference until expansion."""

    name: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class FieldRef:
    """``proc.name``, ``proc.aname[2]``, ``evt.arg.flags`` (the dotted form stays in ``name``)."""

    name: str
    arg: str | None = None
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Literal:
    """A quoted or bare string used as an argument of a multi-value transformer."""

    value: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class ArgList:
    """``(a, b, ...)`` as an argument of a multi-value transformer (``join(",", (x, y))``)."""

    items: tuple[Operand, ...]
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Transform:
    """``tolower(x)`` ... ``len(x)``, ``val(field)`` and the multi-value ``join``, ``concat``,
    ``getopt`` (whose ``arg`` is the ``[opt]`` selector)."""

    name: str
    args: tuple[Operand, ...]
    arg: str | None = None
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Value:
    """One constant right-hand value (string, or number text for numeric operators)."""

    value: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class ValueList:
    """``(a, "b c", ...)``: constant right-hand values of list operators and modifiers."""

    items: tuple[str, ...]
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class ListRef:
    """``in name``: a list name in place of a parenthesised list, until expansion."""

    name: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class UnaryCheck:
    left: Operand
    op: str  # "exists"
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class BinaryCheck:
    left: Operand
    op: str  # "=", "==", "!=", "<", ..., "contains", ..., "in", "intersects", "pmatch"
    right: Rhs
    mod: str | None = None  # "oneof" / "anyof" / "allof"
    pos: int = field(default=-1, compare=False)


Operand: TypeAlias = FieldRef | Transform | Literal | ArgList
Rhs: TypeAlias = Value | ValueList | ListRef | Transform
Node: TypeAlias = And | Or | Not | Macro | UnaryCheck | BinaryCheck

NUM_OPS = ("<=", "<", ">=", ">")
STR_OPS = ("==", "=", "!=", "glob", "iglob", "contains", "icontains", "bcontains", "startswith",
           "bstartswith", "endswith", "regex")
LIST_OPS = ("intersects", "in", "pmatch")
UNARY_OPS = ("exists",)
MODIFIERS = ("oneof", "anyof", "allof")
SINGLE_TRANSFORMERS = ("tolower", "toupper", "b64", "basename", "len")
MULTI_TRANSFORMERS = ("join", "concat", "getopt")
