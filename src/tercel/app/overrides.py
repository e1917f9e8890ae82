"""``-o key=value`` command-line overrides, with Falco's path syntax.

``a.b.c=v`` sets a nested key; ``list[1]=v`` sets an element of a list; ``rules[].enable.tag=x``
appends a new element to a list and sets ``enable.tag`` in it; a backslash escapes ``.``, ``[``, ``]``
and ``\\`` inside a key (``-o 'static_fields.my\\.key=1'``). The value is kept as text: the schema
decides its type (``true`` becomes a boolean for a boolean key, ``007`` stays a string for a string key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

APPEND = object()  # the "[]" step: a new element at the end of a list


class OverrideError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Override:
    text: str  # the whole "-o" argument, for error messages
    path: tuple[Any, ...]  # str keys, int indexes, APPEND
    value: str


def parse(text: str) -> Override:
    """Parse ``KEY=VALUE`` (the first unescaped ``=`` separates them)."""
    steps: list[Any] = []
    cur: list[str] = []
    i = 0
    n = len(text)
    have_key = False  # the current dotted segment has text (or was closed by "]")

    def close_key() -> None:
        nonlocal have_key
        if cur:
            steps.append("".join(cur))
            cur.clear()
        have_key = False

    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                raise OverrideError(f"option '{text}': dangling '\\' at the end")
            cur.append(text[i + 1])
            have_key = True
            i += 2
            continue
        if ch == "=":
            break
        if ch == ".":
            if not cur and not (steps and not have_key and _last_is_index(steps)):
                raise OverrideError(f"option '{text}': empty key before '.' at offset {i}")
            close_key()
            i += 1
            continue
        if ch == "[":
            if not cur and not steps:
                raise OverrideError(f"option '{text}': '[' without a key before it at offset {i}")
            close_key()
            j = text.find("]", i + 1)
            if j < 0:
                raise OverrideError(f"option '{text}': '[' at offset {i} is never closed")
            inner = text[i + 1 : j].strip()
            if inner == "":
                steps.append(APPEND)
            elif inner.isdigit():
                steps.append(int(inner))
            else:
                raise OverrideError(f"option '{text}': list index '{inner}' is not a number")
            i = j + 1
            if i < n and text[i] not in ".[=":
                raise OverrideError(f"option '{text}': expected '.', '[' or '=' after ']' at offset {i}")
            continue
        if ch == "]":
            raise OverrideError(f"option '{text}': unexpected ']' at offset {i}")
        cur.append(ch)
        have_key = True
        i += 1
    if i >= n:
        raise OverrideError(f"option '{text}' must be KEY=VALUE")
    close_key()
    if not steps:
        raise OverrideError(f"option '{text}': empty key")
    return Override(text, tuple(steps), text[i + 1 :])


def _last_is_index(steps: list[Any]) -> bool:
    return bool(steps) and (steps[-1] is APPEND or isinstance(steps[-1], int))


def apply(root: dict[str, Any], ov: Override) -> tuple[Any, ...]:
    """Set the override in ``root`` (creating maps on the way); return the concrete path it wrote."""
    node: Any = root
    concrete: list[Any] = []
    path = ov.path
    for k, step in enumerate(path):
        last = k == len(path) - 1
        nxt = None if last else path[k + 1]
        fresh: Any = [] if (nxt is APPEND or isinstance(nxt, int)) else {}
        if isinstance(step, str):
            if not isinstance(node, dict):
                raise OverrideError(f"option '{ov.text}': '{_show(concrete)}' is not a mapping")
            if last:
                node[step] = ov.value
            else:
                child = node.get(step)
                if child is None or not isinstance(child, (dict, list)):
                    child = node[step] = fresh
                node = child
            concrete.append(step)
        else:
            if not isinstance(node, list):
                raise OverrideError(f"option '{ov.text}': '{_show(concrete)}' is not a list")
            if step is APPEND:
                node.append(ov.value if last else fresh)
                idx = len(node) - 1
            else:
                idx = step
                if idx > len(node):
                    raise OverrideError(
                        f"option '{ov.text}': index {idx} is past the end of '{_show(concrete)}' "
                        f"({len(node)} elements)"
                    )
                if idx == len(node):
                    node.append(None)
                if last:
                    node[idx] = ov.value
                elif not isinstance(node[idx], (dict, list)):
                    node[idx] = fresh
            concrete.append(idx)
            if not last:
                node = node[idx]
    return tuple(concrete)


def _show(path: list[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "<root>"
