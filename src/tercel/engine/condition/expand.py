"""Macro and list substitution on the tree (what Falco's loader does before compiling)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence

from tercel.engine.condition.ast import (
    And,
    BinaryCheck,
    ListRef,
    Macro,
    Node,
    Not,
    Or,
    UnaryCheck,
    ValueList,
)
from tercel.engine.condition.errors import ConditionError
from tercel.engine.condition.parser import unescape
from tercel.engine.condition.walk import walk

_IDENT = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*")
# A macro used twice by the next one, and so on, doubles the tree at each level: a few KB of rules
# text would expand to billions of nodes. The official rules' largest condition has ~460.
MAX_EXPANDED_NODES = 100_000


def macro_refs(node: Node) -> set[str]:
    """Bare identifiers in check position: the macros the condition uses."""
    return {n.name for n in walk(node) if isinstance(n, Macro)}


def list_refs(node: Node, known: Collection[str] | None = None) -> set[str]:
    """Names that may denote lists: ``in name`` and identifier-like items of value lists. With
    ``known`` (the defined list names), only those."""
    found: set[str] = set()
    for n in walk(node):
        if isinstance(n, BinaryCheck):
            if isinstance(n.right, ListRef):
                found.add(n.right.name)
            elif isinstance(n.right, ValueList):
                found.update(v for v in n.right.items if _IDENT.fullmatch(v))
    if known is not None:
        found &= set(known)
    return found


def list_item_value(item: str) -> str:
    """A list item as it becomes a value: quoted items (``'"a b"'``) are unquoted the way the
    condition lexer would read them, anything else is taken as it is."""
    if len(item) >= 2 and item[0] in "\"'" and item[-1] == item[0]:
        return unescape(item)
    return item


def _at(node: Node, pos: int) -> Node:
    """The same tree with every condition node placed at ``pos`` (a macro's nodes report the
    position of the reference that brought them in)."""
    if isinstance(node, And | Or):
        return dataclasses.replace(node, children=tuple(_at(c, pos) for c in node.children), pos=pos)
    if isinstance(node, Not):
        return Not(_at(node.child, pos), pos)
    return dataclasses.replace(node, pos=pos)


def expand(node: Node, macros: Mapping[str, Node], lists: Mapping[str, Sequence[str]]) -> Node:
    """Substitute macros (their trees already expanded) and list names inside value lists and
    after list operators. An identifier that is not a known macro is an error."""
    cache: dict[str, tuple[str, ...]] = {}
    sizes: dict[int, int] = {}  # id(macro tree) -> its node count (the trees live through the call)
    total = 0  # nodes brought in by macros so far

    def items_of(name: str) -> tuple[str, ...]:
        vals = cache.get(name)
        if vals is None:
            try:
                vals = tuple(list_item_value(str(v)) for v in lists[name])
            except ConditionError as e:
                raise ConditionError(f"list '{name}': {e.message}", -1) from None
            cache[name] = vals
        return vals

    def size_of(tree: Node) -> int:
        got = sizes.get(id(tree))
        if got is None:
            got = sizes[id(tree)] = sum(1 for _ in walk(tree))
        return got

    def sub(n: Node) -> Node:
        nonlocal total
        if isinstance(n, And | Or):
            kids = tuple(sub(c) for c in n.children)
            return n if kids == n.children else dataclasses.replace(n, children=kids)
        if isinstance(n, Not):
            kid = sub(n.child)
            return n if kid is n.child else Not(kid, n.pos)
        if isinstance(n, Macro):
            target = macros.get(n.name)
            if target is None:
                raise ConditionError(f"undefined macro '{n.name}'", n.pos)
            total += size_of(target)
            if total > MAX_EXPANDED_NODES:
                raise ConditionError(f"macro '{n.name}' makes the condition larger than {MAX_EXPANDED_NODES} "
                                     "nodes once macros are expanded", n.pos)
            return _at(target, n.pos)
        if isinstance(n, BinaryCheck):
            right = n.right
            if isinstance(right, ListRef) and right.name in lists:
                return dataclasses.replace(n, right=ValueList(items_of(right.name), right.pos))
            if isinstance(right, ValueList) and any(v in lists for v in right.items):
                vals: list[str] = []
                for v in right.items:
                    if v in lists:
                        vals.extend(items_of(v))
                    else:
                        vals.append(v)
                return dataclasses.replace(n, right=ValueList(tuple(vals), right.pos))
            return n
        assert isinstance(n, UnaryCheck)
        return n

    return sub(node)
