"""The rule compiler's calls into the condition language and the output formats, cached: the
same condition text parses once, the same expanded tree is analysed once (trees compare by
structure), the same output format compiles once — which keeps loading several files, each
followed by a full compile as Falco does, cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tercel.engine import condition as cond
from tercel.engine import output_format as out
from tercel.engine.condition import ast

_parse_cache: dict[str, Any] = {}
_analysis_cache: dict[Any, tuple[list[str], frozenset[str] | None, Callable[[Any], bool]]] = {}
_output_cache: dict[str, Any] = {}


def parse(text: str) -> Any:
    node = _parse_cache.get(text)
    if node is None:
        node = cond.parse(text)
        if len(_parse_cache) > 20000:
            _parse_cache.clear()
        _parse_cache[text] = node
    return node


def macro_nodes(node: Any) -> Iterator[Any]:
    """Every macro reference (identifier in check position) in a tree, with its ``pos``."""
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
    return set(cond.list_refs(node))


def expand(node: Any, macros: Mapping[str, Any], lists: Mapping[str, Any]) -> Any:
    return cond.expand(node, macros, lists)


def analyse(node: Any) -> tuple[list[str], frozenset[str] | None, Callable[[Any], bool]]:
    """(validation warnings, event types or None, compiled predicate) of an expanded tree."""
    got = _analysis_cache.get(node)
    if got is None:
        warnings = cond.validate(node)
        evttypes = cond.event_types(node)
        fn = cond.compile(node)
        got = (warnings, None if evttypes is None else frozenset(evttypes), fn)
        if len(_analysis_cache) > 5000:
            _analysis_cache.clear()
        _analysis_cache[node] = got
    return got


def to_text(node: Any) -> str:
    return str(cond.to_text(node))


def compile_output(fmt: str) -> Any:
    got = _output_cache.get(fmt)
    if got is None:
        got = out.compile_output(fmt)
        if len(_output_cache) > 5000:  # bounded like the caches above: reloads with edited outputs
            _output_cache.clear()
        _output_cache[fmt] = got
    return got

