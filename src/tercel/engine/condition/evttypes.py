"""The event types a condition can match, with the semantics of libsinsp's ``ppm_codes.cpp``
(ported from Falco's evttype resolution): ``and`` intersects, ``or`` unites, negations are
pushed down to the leaves (De Morgan), checks unrelated to ``evt.type`` match every type, and
``evt.type`` checks with ``=``, ``==``, ``!=`` and ``in`` name their types."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tercel.engine.condition.ast import (
    And,
    BinaryCheck,
    FieldRef,
    ListRef,
    Macro,
    Node,
    Not,
    Or,
    Transform,
    UnaryCheck,
    Value,
    ValueList,
)
from tercel.engine.condition.errors import ConditionError

_EVTTYPE_OPS = frozenset({"=", "==", "!=", "in"})


@dataclass(frozen=True, slots=True)
class TypeSet:
    """A set of event type names, possibly complemented (``ALL - names``)."""

    names: frozenset[str]
    complement: bool

    def inverted(self) -> TypeSet:
        return TypeSet(self.names, not self.complement)

    def intersect(self, o: TypeSet) -> TypeSet:
        if not self.complement and not o.complement:
            return TypeSet(self.names & o.names, False)
        if self.complement and o.complement:
            return TypeSet(self.names | o.names, True)
        pos, neg = (self, o) if not self.complement else (o, self)
        return TypeSet(pos.names - neg.names, False)

    def union(self, o: TypeSet) -> TypeSet:
        if not self.complement and not o.complement:
            return TypeSet(self.names | o.names, False)
        if self.complement and o.complement:
            return TypeSet(self.names & o.names, True)
        pos, neg = (self, o) if not self.complement else (o, self)
        return TypeSet(neg.names - pos.names, True)


ALL = TypeSet(frozenset(), True)
NONE = TypeSet(frozenset(), False)


def _is_evttype(left: object) -> bool:
    return isinstance(left, FieldRef) and left.name == "evt.type" and not left.arg


def _contains_evttype(node: object) -> bool:
    if _is_evttype(node):
        return True
    if isinstance(node, Transform):
        return any(_contains_evttype(a) for a in node.args)
    return False


def _leaf(node: Node, negated: bool) -> TypeSet:
    if isinstance(node, UnaryCheck):
        if isinstance(node.left, Transform) and _contains_evttype(node.left):
            raise ConditionError("event code search does not support `evt.type` checks with transformers", node.pos)
        has_codes = _is_evttype(node.left)
        # "evt.type exists" matches every type; negated, none
        return NONE if (negated and has_codes) else ALL
    if isinstance(node, BinaryCheck):
        if isinstance(node.left, Transform) and _contains_evttype(node.left) and node.op in _EVTTYPE_OPS:
            raise ConditionError("event code search does not support `evt.type` checks with transformers", node.pos)
        if node.op in _EVTTYPE_OPS and _is_evttype(node.left):
            r = node.right
            if isinstance(r, Transform):
                raise ConditionError(
                    "right-hand field comparisons on `evt.type` checks are not supported by event code search",
                    node.pos)
            if isinstance(r, Value):
                names = frozenset((r.value,))
            elif isinstance(r, ValueList):
                names = frozenset(r.items)
            else:
                assert isinstance(r, ListRef)
                names = frozenset((r.name,))
            s = TypeSet(names, False)
            if negated:
                s = s.inverted()
            if node.op == "!=":
                s = s.inverted()
            return s
        return ALL
    return ALL  # Macro (unexpanded): neutral


def type_set(node: Node, negated: bool = False) -> TypeSet:
    """The symbolic set of event types ``node`` can match."""
    if isinstance(node, And | Or):
        conj = isinstance(node, And) != negated
        acc = ALL if conj else NONE
        for c in node.children:
            s = type_set(c, negated)
            acc = acc.intersect(s) if conj else acc.union(s)
        return acc
    if isinstance(node, Not):
        return type_set(node.child, not negated)
    assert isinstance(node, BinaryCheck | UnaryCheck | Macro)
    return _leaf(node, negated)


def event_types(node: Node, known: Collection[str] | None = None) -> frozenset[str] | None:
    """Event type names the condition can match; None when unbounded (every type, or every
    type but some). With ``known`` (all event type names), names outside it are dropped and a
    complemented set is resolved against it."""
    s = type_set(node)
    if known is not None:
        universe = frozenset(known)
        return (universe - s.names) if s.complement else (s.names & universe)
    return None if s.complement else s.names
