"""The narrow adapter to the condition language and the output formats (written by others).

Everything the rule compiler needs from ``tercel.engine.condition`` and
``tercel.engine.output_format`` goes through here, with results cached: the same condition text
parses once, the same expanded tree compiles once (trees compare by structure), the same output
format compiles once — which keeps loading several files, each followed by a full compile as
Falco does, cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

_COND: Any = None
_OUT: Any = None
_parse_cache: dict[str, Any] = {}
_analysis_cache: dict[Any, tuple[list[Any], frozenset[str] | None, Callable[[Any], bool]]] = {}
_output_cache: dict[str, Any] = {}


def cond() -> Any:
    global _COND
    if _COND is None:
        _COND = importlib.import_module("tercel.engine.condition")
    return _COND


def _need(module: Any, name: str) -> Any:
    fn = getattr(module, name, None)
    if fn is None:
        raise ImportError(f"{module.__name__}.{name} is not available")
    return fn


def out() -> Any:
    global _OUT
    if _OUT is None:
        _OUT = importlib.import_module("tercel.engine.output_format")
    return _OUT


def parse(text: str) -> Any:
    node = _parse_cache.get(text)
    if node is None:
        node = _need(cond(), "parse")(text)
        if len(_parse_cache) > 20000:
            _parse_cache.clear()
        _parse_cache[text] = node
    return node


def macro_nodes(node: Any) -> Iterator[Any]:
    """Every macro reference (identifier in check position) in a tree, with its ``pos``."""
    from tercel.engine.condition import ast

    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Macro):
            yield n
        elif isinstance(n, ast.And | ast.Or):
            stack.extend(reversed(n.children))
        elif isinstance(n, ast.Not):
            stack.append(n.child)


def list_refs(node: Any) -> set[str]:
    return set(_need(cond(), "list_refs")(node))


def expand(node: Any, macros: Mapping[str, Any], lists: Mapping[str, Any]) -> Any:
    return _need(cond(), "expand")(node, macros, lists)


def analyse(node: Any) -> tuple[list[Any], frozenset[str] | None, Callable[[Any], bool]]:
    """(validation warnings, event types or None, compiled predicate) of an expanded tree."""
    got = _analysis_cache.get(node)
    if got is None:
        c = cond()
        warnings = list(_need(c, "validate")(node) or ())
        evttypes = _need(c, "event_types")(node)
        fn = _need(c, "compile")(node)
        got = (warnings, None if evttypes is None else frozenset(evttypes), fn)
        if len(_analysis_cache) > 5000:
            _analysis_cache.clear()
        _analysis_cache[node] = got
    return got


def to_text(node: Any) -> str:
    return str(cond().to_text(node))


def compile_output(fmt: str) -> Any:
    got = _output_cache.get(fmt)
    if got is None:
        got = _need(out(), "compile_output")(fmt)
        _output_cache[fmt] = got
    return got


def output_error() -> type[Exception]:
    err: type[Exception] = _need(out(), "OutputFormatError")
    return err
