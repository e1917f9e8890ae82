"""Falco's condition language: parse, print, expand, type-check, analyse, compile.

    node = parse("evt.type = open and proc.name in (cat, less)")
    node = expand(node, macros, lists)
    warnings = validate(node)
    types = event_types(node)          # frozenset({"open"}), None when unbounded
    fn = compile(node)                 # fn(event) -> bool
"""

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
    Or,
    Transform,
    UnaryCheck,
    Value,
    ValueList,
)
from tercel.engine.condition.checker import validate
from tercel.engine.condition.compiler import compile_condition as compile
from tercel.engine.condition.errors import ConditionError, UnknownFieldError
from tercel.engine.condition.evttypes import event_types
from tercel.engine.condition.expand import expand, list_refs, macro_refs
from tercel.engine.condition.parser import parse
from tercel.engine.condition.printer import to_text

__all__ = [
    "And", "ArgList", "BinaryCheck", "ConditionError", "FieldRef", "ListRef", "Literal", "Macro", "Node",
    "Not", "Or", "Transform", "UnaryCheck", "UnknownFieldError", "Value", "ValueList", "compile", "event_types",
    "expand",
    "list_refs", "macro_refs", "parse", "to_text", "validate",
]
