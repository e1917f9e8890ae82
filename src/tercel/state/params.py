"""Reading event parameters by name, and decoding the socket encodings from raw bytes.

Parameters are looked up by name (``res``, ``fd``, ``tuple``...) through a per-event-type index
built once from the event table, so one parser serves every generation of an event (parameters
are only ever appended within one number, and names are stable across numbers).
"""

from __future__ import annotations

import posixpath
import struct
from typing import Any

_IDX: dict[int, dict[str, int]] = {}

# PPME parameter values (socket families, the dirfd meaning "the cwd"), for the decoders and parsers
AF_UNIX = 1
AF_INET = 2
AF_INET6 = 10
AT_FDCWD = -100

_U16 = struct.Struct("<H")
_U64 = struct.Struct("<Q")


def index(evt: Any) -> dict[str, int]:
    info = evt.info
    idx = getattr(info, "index_by_name", None)
    if idx is not None:
        return idx
    idx = _IDX.get(evt.type)
    if idx is None:
        idx = {}
        for i, p in enumerate(getattr(info, "params", ()) or ()):
            idx.setdefault(p.name, i)
        _IDX[evt.type] = idx
    return idx


def get(evt: Any, name: str) -> Any:
    """The decoded value of the parameter called ``name``, or None when the event lacks it."""
    try:
        i = evt.info.index_by_name.get(name)
    except AttributeError:
        i = index(evt).get(name)
    if i is None or i >= evt.nparams:
        return None
    try:
        return evt.param(i)
    except Exception:  # a malformed parameter reads as missing, never as a crash
        return None


class Named:
    """The parameters of one event by name, decoded in one pass (``Event.values``): for parsers
    that read many of them (clone, execve). Same values and None rules as ``get``."""

    __slots__ = ("evt", "idx", "vals")

    def __init__(self, evt: Any) -> None:
        self.evt = evt
        self.idx = index(evt)
        try:
            self.vals: list[Any] | None = evt.values()
        except Exception:  # not an Event with values(): parameter by parameter
            self.vals = None

    def get(self, name: str) -> Any:
        vals = self.vals
        if vals is None:
            return get(self.evt, name)
        i = self.idx.get(name)
        return vals[i] if i is not None and i < len(vals) else None

    def int(self, name: str) -> int | None:
        v = self.get(name)
        return v if isinstance(v, int) else None

    def str(self, name: str) -> str | None:
        v = self.get(name)
        if isinstance(v, str):
            return v
        if isinstance(v, (bytes, bytearray, memoryview)):
            return bytes(v).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        return None


def raw(evt: Any, name: str) -> bytes | None:
    i = index(evt).get(name)
    if i is None or i >= evt.nparams:
        return None
    try:
        return bytes(evt.param_raw(i))
    except Exception:
        return None


def get_int(evt: Any, name: str) -> int | None:
    v = get(evt, name)
    return v if isinstance(v, int) else None


def get_str(evt: Any, name: str) -> str | None:
    v = get(evt, name)
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return None


def split_nul(v: Any) -> tuple[str, ...]:
    """A BYTEBUF of NUL-terminated items (args, env, cgroups) as a tuple of strings."""
    if v is None:
        return ()
    if isinstance(v, str):
        v = v.encode("utf-8", "surrogateescape")
    b = bytes(v)
    if not b:
        return ()
    if b.endswith(b"\0"):
        b = b[:-1]
    # one decode, then split: NUL never belongs to a multi-byte sequence, so this is item by item
    return tuple(b.decode("utf-8", "surrogateescape").split("\0"))


def parse_cgroups(v: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for item in split_nul(v):
        ctrl, eq, path = item.partition("=")
        if eq:
            out.append((ctrl, path))
    return tuple(out)


# --- socket addresses ---------------------------------------------------------------------------

def sockaddr(b: bytes | None) -> tuple[int, bytes, int, str] | None:
    """(family, ip, port, unix_path) of a SOCKADDR parameter, None when empty or malformed."""
    if not b:
        return None
    fam = b[0]
    if fam == AF_INET and len(b) >= 7:
        return fam, b[1:5], _U16.unpack_from(b, 5)[0], ""
    if fam == AF_INET6 and len(b) >= 19:
        return fam, b[1:17], _U16.unpack_from(b, 17)[0], ""
    if fam == AF_UNIX:
        return fam, b"", 0, b[1:].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return None


def socktuple(b: bytes | None) -> tuple[int, bytes, int, bytes, int, int, int, str] | None:
    """(family, sip, sport, dip, dport, unix_src, unix_dst, unix_path) of a SOCKTUPLE."""
    if not b:
        return None
    fam = b[0]
    if fam == AF_INET and len(b) >= 13:
        return (fam, b[1:5], _U16.unpack_from(b, 5)[0], b[7:11], _U16.unpack_from(b, 11)[0],
                0, 0, "")
    if fam == AF_INET6 and len(b) >= 37:
        sip, dip = b[1:17], b[19:35]
        sport, dport = _U16.unpack_from(b, 17)[0], _U16.unpack_from(b, 35)[0]
        if sip[:12] == _V4MAPPED and dip[:12] == _V4MAPPED:
            return AF_INET, sip[12:], sport, dip[12:], dport, 0, 0, ""
        return fam, sip, sport, dip, dport, 0, 0, ""
    if fam == AF_UNIX and len(b) >= 17:
        src, dst = _U64.unpack_from(b, 1)[0], _U64.unpack_from(b, 9)[0]
        path = b[17:].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        return fam, b"", 0, b"", 0, src, dst, path
    return None


_V4MAPPED = b"\0" * 10 + b"\xff\xff"


# --- paths ----------------------------------------------------------------------------------------

def concat_path(base: str, name: str) -> str:
    """libsinsp's concatenate_paths: ``name`` if absolute, else ``base/name``; normalised."""
    if not name:
        return (base.rstrip("/") or "/") if base else ""
    if name[0] == "/":
        if "//" not in name and "/." not in name and (len(name) == 1 or name[-1] != "/"):
            return name  # already normal: the common case
        path = name
    else:
        b = base or "/"
        path = b + name if b[-1] == "/" else b + "/" + name
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm
