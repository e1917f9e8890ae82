"""Runtime helpers shared by the compiler and output formats: transformers, glob and path
prefix matching, network membership, getopt."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def ascii_lower(s: str) -> str:
    """C tolower() in the C locale: only A-Z change (as libsinsp's transformers and strcasestr)."""
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)


def ascii_upper(s: str) -> str:
    return s.upper() if s.isascii() else s.translate(_ASCII_UPPER)


def as_text(v: Any) -> str:
    """A single value as text (list items of transformer arguments)."""
    if type(v) is str:
        return v
    if type(v) is bool:
        return "true" if v else "false"
    if isinstance(v, bytes | bytearray):
        return bytes(v).decode("utf-8", "surrogateescape")
    return str(v)


def basename(s: str) -> str:
    return s[s.rfind("/") + 1 :]


def b64decode(v: Any) -> Any:
    raw = v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v
    try:
        out = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    return out.decode("utf-8", "surrogateescape") if isinstance(v, str) else out


def byte_len(v: Any) -> int:
    if isinstance(v, str):
        return len(v) if v.isascii() else len(v.encode("utf-8", "surrogateescape"))
    return len(v)


def glob_regex(pattern: str, icase: bool) -> re.Pattern[str]:
    """fnmatch(3) without flags (``*`` also matches ``/``; ``\\`` escapes), as a regex."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "[":
            j = i
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal '['
                out.append(re.escape(c))
                continue
            body = pattern[i:j]
            i = j + 1
            neg = body[:1] in ("!", "^")
            if neg:
                body = body[1:]
            cls = "".join("\\" + ch if ch in "\\^][&~|" else ch for ch in body)
            out.append(f"[{'^' if neg else ''}{cls}]")
        else:
            out.append(re.escape(c))
    flags = re.DOTALL | (re.IGNORECASE if icase else 0)
    return re.compile("".join(out), flags)


@lru_cache(maxsize=1024)
def cached_glob(pattern: str, icase: bool) -> re.Pattern[str]:
    return glob_regex(pattern, icase)


def _normal_path(path: str) -> str:
    return "/" + "/".join(p for p in path.split("/") if p)


class PrefixSet:
    """``pmatch``: a path matches when it equals or lies under one of the prefixes (compared
    component by component, so ``/etc`` covers ``/etc/passwd`` but not ``/etcx``)."""

    __slots__ = ("_set", "_root")

    def __init__(self, prefixes: Iterable[str]) -> None:
        self._set = {_normal_path(p) for p in prefixes}
        self._root = "/" in self._set

    def match(self, path: str) -> bool:
        if self._root:
            return True
        if not path.startswith("/") or "//" in path or (path.endswith("/") and len(path) > 1):
            path = _normal_path(path)
        s = self._set
        if path in s:
            return True
        i = path.find("/", 1)
        while i != -1:
            if path[:i] in s:
                return True
            i = path.find("/", i + 1)
        return False


@lru_cache(maxsize=4096)
def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def address_key(text: str) -> tuple[int, int]:
    """(IP version, address as an integer); (0, 0) when the text is not an address."""
    addr = parse_address(text)
    return (0, 0) if addr is None else (addr.version, int(addr))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NetSet:
    """Membership of an address (canonical text) in any of some networks."""

    __slots__ = ("_nets",)

    def __init__(self, nets: Iterable[Network]) -> None:
        self._nets = tuple((n.version, int(n.netmask), int(n.network_address)) for n in nets)

    def match(self, value: str) -> bool:
        version, a = address_key(value)
        for v, mask, net in self._nets:
            if v == version and a & mask == net:
                return True
        return False


def getopt(args: tuple[str, ...], optstring: str, selector: str | None) -> Any:
    """libsinsp's getopt() transformer: POSIX short options of an argument list. Without a
    selector the stream of options (and their values, '?' for unknown ones); with one, the
    last value of that option (None when absent)."""
    start = 1 if optstring.startswith(":") else 0
    valid: set[str] = set()
    with_arg: set[str] = set()
    j = start
    while j < len(optstring):
        c = optstring[j]
        if c != ":":
            valid.add(c)
            if j + 1 < len(optstring) and optstring[j + 1] == ":":
                with_arg.add(c)
                j += 1
        j += 1
    results: list[str] = []
    selected: str | None = None
    idx = 0
    while idx < len(args):
        a = args[idx]
        if a == "--":
            break
        if len(a) > 2 and a.startswith("--"):
            idx += 1
            continue
        if not a or a[0] != "-" or len(a) == 1:
            break
        i = 1
        while i < len(a):
            c = a[i]
            if c == ":" or c not in valid:
                if selector is None:
                    results.append("?")
                i += 1
                continue
            match = selector is None or c == selector
            if c not in with_arg:
                if match:
                    if selector is None:
                        results.append(c)
                    else:
                        selected = c
                i += 1
                continue
            if i + 1 < len(a):
                value: str | None = a[i + 1 :]
            elif idx + 1 < len(args):
                idx += 1
                value = args[idx]
            else:
                value = None
            if match:
                if value is None:
                    if selector is None:
                        results.append("")
                    else:
                        selected = ""
                elif selector is None:
                    results.extend((c, value))
                else:
                    selected = value
            break
        idx += 1
    if selector is not None:
        return selected
    return tuple(results)


def map_value(fn: Callable[[Any], Any], v: Any) -> Any:
    """Apply a per-value transformer to a value or to each element of a list value."""
    if type(v) is tuple:
        out = tuple(fn(x) for x in v)
        return None if any(x is None for x in out) else out
    return fn(v)
