"""Rule output formats (libsinsp's event formatter): literal text with ``%field``,
``%field[arg]``, ``%evt.arg.name``, ``%transformer(...)`` and ``%<N>field`` (width N: padded or
cut), and a leading ``*`` (do not require every value). Compiled once, rendered per alert:
missing values print ``<NA>`` in the text and are None in the field dict."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tercel.engine.condition.ast import FieldRef
from tercel.engine.condition.checker import operand_type, resolve_field
from tercel.engine.condition.compiler import operand_getter
from tercel.engine.condition.errors import ConditionError
from tercel.engine.condition.parser import parse_operand
from tercel.fields import registry
from tercel.fields.registry import ArgMode

NA = "<NA>"
_DIGITS = frozenset("0123456789")
_TRANSFORMER = re.compile(r"(?:tolower|toupper|b64|basename|len|join|concat|getopt)\(")
_CANDIDATE = re.compile(r"[A-Za-z0-9_.]+")
_ARGNAME = re.compile(r"[A-Za-z0-9_]+")


class OutputFormatError(Exception):
    def __init__(self, message: str, offset: int = -1) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return self.message


def render_value(value: Any) -> str:
    """Text of a typed field value, as Falco prints it."""
    if value is None:
        return NA
    t = type(value)
    if t is str:
        return str(value)
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return f"{value:.1f}"
    if t is bytes or t is bytearray:
        return "".join(chr(b) if 32 <= b < 127 else "." for b in value)
    if t is tuple or t is list:
        return "(" + ",".join(render_value(v) for v in value) + ")"
    return str(value)


@dataclass(slots=True)
class _Token:
    name: str  # as written: "proc.aname[2]", "toupper(proc.name)"
    get: Callable[[Any], Any]
    width: int


class OutputFormat:
    """A compiled output format: ``render(evt) -> (text, {field name: typed value})``."""

    __slots__ = ("fmt", "parts", "field_names", "require_all")

    def __init__(self, fmt: str, parts: list[str | _Token], require_all: bool) -> None:
        self.fmt = fmt
        self.parts = parts
        self.require_all = require_all
        self.field_names: list[str] = list(dict.fromkeys(p.name for p in parts if isinstance(p, _Token)))

    def render(self, evt: Any) -> tuple[str, dict[str, Any]]:
        out: list[str] = []
        fields: dict[str, Any] = {}
        for p in self.parts:
            if type(p) is str:
                out.append(p)
                continue
            assert isinstance(p, _Token)
            v = p.get(evt)
            fields[p.name] = v
            s = render_value(v)
            if p.width:
                s = s[: p.width].ljust(p.width)
            out.append(s)
        return "".join(out), fields

    def has_all_values(self, fields: dict[str, Any]) -> bool:
        """False when a value is missing and the format did not start with ``*``."""
        return not self.require_all or all(v is not None for v in fields.values())


def _field_token(fmt: str, pos: int) -> tuple[str, Callable[[Any], Any], int]:
    m = _CANDIDATE.match(fmt, pos)
    cand = m.group(0) if m else ""
    fdef = None
    n = len(cand)
    while n > 0:
        fdef = registry.get(cand[:n])
        if fdef is not None:
            break
        n -= 1
    if fdef is None:
        rest = fmt[pos:].split(None, 1)[0] if fmt[pos:].strip() else fmt[pos:]
        raise OutputFormatError(f"invalid formatting token {rest}", pos)
    end = pos + n
    arg: str | None = None
    if fdef.arg is not ArgMode.NONE and end < len(fmt) and fmt[end] == "[":
        close = fmt.find("]", end + 1)
        if close < 0:
            raise OutputFormatError(f"invalid formatting token {fmt[pos:]}: missing ']'", end)
        arg = fmt[end + 1 : close]
        end = close + 1
    elif fdef.dotted_arg and end < len(fmt) and fmt[end] == ".":
        am = _ARGNAME.match(fmt, end + 1)
        if am:
            arg = am.group(0)
            end = am.end()
    ref = FieldRef(fdef.name, arg, pos)
    if fdef.filter_only:
        raise OutputFormatError(f"{fdef.name} is filter only and cannot be used as a display field", pos)
    try:
        resolve_field(ref)
        get, _ = operand_getter(ref)
    except ConditionError as e:
        raise OutputFormatError(e.message, pos) from None
    return fmt[pos:end], get, end


def compile_output(fmt: str) -> OutputFormat:
    """Compile an output format; raises OutputFormatError (with the offset) when a token is
    not a field, an argument is wrong, or the format ends with ``%``."""
    if not isinstance(fmt, str):
        raise OutputFormatError(f"output must be a string, not {type(fmt).__name__}")
    if fmt == "":
        raise OutputFormatError("empty formatting token", 0)
    require_all = True
    start = 0
    if fmt[0] == "*":
        require_all = False
        start = 1
    parts: list[str | _Token] = []
    literal_start = start
    i = start
    n = len(fmt)
    while i < n:
        if fmt[i] != "%":
            i += 1
            continue
        if literal_start != i:
            parts.append(fmt[literal_start:i])
        if i == n - 1:
            raise OutputFormatError("invalid formatting syntax: formatting cannot end with a %", i)
        j = i + 1
        width = 0
        if fmt[j] in _DIGITS:
            k = j
            while k < n and fmt[k] in _DIGITS:
                k += 1
            if k >= n:
                raise OutputFormatError("invalid formatting syntax: formatting cannot end with a number", i)
            width = int(fmt[j:k])
            j = k
        if _TRANSFORMER.match(fmt, j):
            try:
                operand, end = parse_operand(fmt, j)
                operand_type(operand)
                get, _ = operand_getter(operand)
            except ConditionError as e:
                raise OutputFormatError(e.message, e.offset if e.offset >= 0 else j) from None
            name = fmt[j:end]
        else:
            name, get, end = _field_token(fmt, j)
        parts.append(_Token(name, get, width))
        i = literal_start = end
    if literal_start < n:
        parts.append(fmt[literal_start:])
    return OutputFormat(fmt, parts, require_all)
