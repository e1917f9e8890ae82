"""Iterating over a condition tree."""

from __future__ import annotations

from collections.abc import Iterator

from tercel.engine.condition.ast import And, Node, Not, Or


def walk(node: Node) -> Iterator[Node]:
    """Every condition node (not operands), depth first, iteratively."""
    stack: list[Node] = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, And | Or):
            stack.extend(reversed(n.children))
        elif isinstance(n, Not):
            stack.append(n.child)
