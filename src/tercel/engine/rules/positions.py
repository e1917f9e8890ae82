"""Mapping an offset inside a condition string back to the rules file (line, column, offset)."""

from __future__ import annotations

from bisect import bisect_right

from tercel.engine.rules.model import CondPos

_line_cache: dict[int, tuple[str, list[int]]] = {}


def line_col(content: str, offset: int) -> tuple[int, int]:
    """0-based (line, column) of a character offset."""
    key = id(content)
    cached = _line_cache.get(key)
    if cached is None or cached[0] is not content:
        starts = [0]
        find = content.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        cached = (content, starts)
        if len(_line_cache) > 64:
            _line_cache.clear()
        _line_cache[key] = cached
    starts = cached[1]
    line = bisect_right(starts, offset) - 1
    return line, offset - starts[line]


def _align(src: str, value: str, target: int) -> int:
    """Walk the YAML source of a scalar and its value side by side until ``target`` characters of
    the value are consumed; return the source index. Exact for plain and quoted one-line scalars,
    close for folded and multi-line ones (indentation and line folding are skipped)."""
    i = j = 0
    n, m = len(src), len(value)
    while j < target and i < n and j < m:
        a, b = src[i], value[j]
        if a == b:
            i += 1
            j += 1
        elif a in " \t\r\n":
            i += 1
        elif b in " \t\r\n":
            j += 1
        elif a in "\"'\\":
            i += 1
        else:  # an escape sequence or a character we cannot align: move on in both
            i += 1
            j += 1
    while i < n and src[i] in " \t\r\n" and j < m and value[j] not in " \t\r\n":
        i += 1
    return i


def scalar_offset(pos: CondPos, value: str, offset: int) -> tuple[str, str, int]:
    """(file, file content, absolute offset) of character ``offset`` of the scalar ``value`` read
    at ``pos``. Appended parts (``append``/``override: append``) lead to their own file position."""
    for start, part in reversed(pos.parts):
        if offset >= start:
            return scalar_offset(CondPos(part.file, part.content, part.start, part.end, part.style),
                                 value[start:], offset - start)
    src = pos.content[pos.start:pos.end]
    base = pos.start
    if pos.style in ("|", ">"):
        nl = src.find("\n")
        if nl < 0:
            return pos.file, pos.content, base
        src, base = src[nl + 1:], base + nl + 1
    elif pos.style in ("'", '"'):
        src, base = src[1:], base + 1
    end = pos.parts[0][0] - 1 if pos.parts else len(value)
    return pos.file, pos.content, base + _align(src, value[:end], max(0, min(offset, len(value))))
