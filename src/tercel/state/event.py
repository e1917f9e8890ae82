"""Event: one PPME event, header unpacked on creation, parameters decoded lazily (contract 2).

Creating an Event costs one ``struct.unpack_from`` of the 26-byte v2 header. The parameter length
array is read the first time any parameter is asked for, and each parameter is decoded at most once.
Nothing here raises on malformed event bytes: a parameter that is missing (too few params) or runs
past the event's end reads as ``None``.
"""

from __future__ import annotations

import operator
import socket
import struct
from itertools import accumulate
from typing import Any

from tercel.state import eventtable as et
from tercel.state.params import AF_INET, AF_INET6, AF_UNIX

_HDR = struct.Struct("<QqIHI").unpack_from  # ts, tid, len, type, nparams
HEADER_LEN = 26
_TABLE = et.TABLE
_EVENT_MAX = et.PPM_EVENT_MAX
_MISSING = object()
_new = object.__new__

_u8 = struct.Struct("<B").unpack_from
_u16 = struct.Struct("<H").unpack_from
_u64 = struct.Struct("<Q").unpack_from
_LENS16 = [struct.Struct(f"<{n}H").unpack_from for n in range(64)]
_LENS32 = [struct.Struct(f"<{n}I").unpack_from for n in range(64)]


def _lens_unpacker(n: int, large: bool) -> Any:
    if n < 64:
        return _LENS32[n] if large else _LENS16[n]
    return struct.Struct(f"<{n}{'I' if large else 'H'}").unpack_from


class Event:
    """A decoded-on-demand PPME event. See docs/architecture.md, contract 2."""

    __slots__ = ("buf", "offset", "num", "ts", "tid", "len", "type", "nparams", "cpu", "flags", "info",
                 "_offs", "_end", "_vals", "_name", "thread", "fdinfo", "fd", "cache")

    def __init__(self, buf: bytes | memoryview, offset: int, cpu: int = 0, flags: int = 0, num: int = 0) -> None:
        self.buf = buf
        self.offset = offset
        self.cpu = cpu
        self.flags = flags
        self.num = num
        self.ts, self.tid, self.len, etype, self.nparams = _HDR(buf, offset)
        self.type = etype
        self.info = _TABLE[etype] if etype < _EVENT_MAX else et.info(etype)
        self._offs: list[int] | None = None
        self._end = 0
        self._vals: Any = None  # None, a list (every parameter decoded) or a dict (lazy)
        self._name: str | None = None
        # filled by the state layer
        self.thread: Any = None
        self.fdinfo: Any = None
        self.fd: int | None = None
        self.cache: dict[str, Any] | None = None

    @classmethod
    def decoded(cls, buf: bytes | memoryview, offset: int, cpu: int, flags: int, num: int, ts: int, tid: int,
                length: int, etype: int, nparams: int, vals: list[Any]) -> Event:
        """An Event whose header and parameters a parser already unpacked (``vals``: every
        parameter decoded exactly as ``param`` would): nothing is read twice."""
        e = _new(cls)
        e.buf = buf
        e.offset = offset
        e.cpu = cpu
        e.flags = flags
        e.num = num
        e.ts = ts
        e.tid = tid
        e.len = length
        e.type = etype
        e.nparams = nparams
        e.info = _TABLE[etype] if etype < _EVENT_MAX else et.info(etype)
        e._offs = None
        e._end = 0
        e._vals = vals
        e._name = None
        e.thread = None
        e.fdinfo = None
        e.fd = None
        e.cache = None
        return e

    # --- header-level facts -------------------------------------------------------------------
    @property
    def is_exit(self) -> bool:
        return bool(self.type & 1)

    @property
    def direction(self) -> str:
        return "<" if self.type & 1 else ">"

    @property
    def name(self) -> str:
        """What ``evt.type`` prints: the table name, or the syscall name of a GENERIC event."""
        n = self._name
        if n is None:
            if self.type <= et.GENERIC_X:
                sc = self.param(0)
                n = et.syscall_name(sc) if isinstance(sc, int) else "<unknown>"
            else:
                n = self.info.name
            self._name = n
        return n

    @property
    def category(self) -> int:
        return self.info.category

    # --- parameters ---------------------------------------------------------------------------
    def _load_offsets(self) -> list[int]:
        """Start offset of each parameter plus the end of the last one (n+1 entries)."""
        n = self.nparams
        buf = self.buf
        start = self.offset + HEADER_LEN
        end = self.offset + self.len
        if end > len(buf):
            end = len(buf)
        self._end = end
        if self.info.large_payload:
            width, table = 4, _LENS32
        else:
            width, table = 2, _LENS16
        if n * width > end - start:  # corrupt count: keep what fits
            n = max(0, (end - start) // width)
        if n:
            lens = table[n](buf, start) if n < 64 else _lens_unpacker(n, width == 4)(buf, start)
            offs = list(accumulate(lens, initial=start + n * width))
        else:
            offs = [start]
        self._offs = offs
        return offs

    def _span(self, i: int) -> tuple[int, int] | None:
        offs = self._offs if self._offs is not None else self._load_offsets()
        if i < 0 or i >= len(offs) - 1:
            return None
        b = offs[i + 1]
        if b > self._end:
            return None  # runs past the event: unreadable
        return offs[i], b

    def param_raw(self, i: int) -> bytes | None:
        """Bytes of parameter i (b"" when present but empty), None when absent or unreadable."""
        sp = self._span(i)
        if sp is None:
            return None
        return bytes(self.buf[sp[0]:sp[1]])

    def param_len(self, i: int) -> int | None:
        sp = self._span(i)
        return None if sp is None else sp[1] - sp[0]

    def param(self, i: int) -> Any:
        """Decoded value of parameter i (cached); None when the event does not carry it."""
        vals = self._vals
        if vals is None:
            vals = self._decode()
        if vals.__class__ is list:
            return vals[i] if 0 <= i < len(vals) else None
        v = vals.get(i, _MISSING)
        if v is not _MISSING:
            return v
        offs = self._offs if self._offs is not None else self._load_offsets()
        if i < 0 or i >= len(offs) - 1 or offs[i + 1] > self._end:
            v = None
        else:
            params = self.info.params
            if i < len(params):
                p = params[i]
                t = p.type
                v = (_DECODERS[t] if t < _NDEC else _raw)(self.buf, offs[i], offs[i + 1], p)
            else:
                v = bytes(self.buf[offs[i]:offs[i + 1]])
        vals[i] = v
        return v

    def values(self) -> list[Any]:
        """Every parameter decoded, in order: the cheap way for a consumer that needs most of
        them. Parameters past the list's end (a corrupt count) read as None. Do not modify it."""
        vals = self._vals
        if vals is None:
            vals = self._decode()
        if vals.__class__ is list:
            return vals
        offs = self._offs if self._offs is not None else self._load_offsets()
        param = self.param
        return [param(i) for i in range(min(self.nparams, len(offs) - 1))]

    def _decode(self) -> Any:
        """First parameter access: when the parameter lengths are the usual ones of this (type,
        nparams), decode them all at once with precompiled structs; else decode lazily."""
        etype = self.type
        n = self.nparams
        try:
            known = _LAY_N[etype]
        except IndexError:
            known = -2
        if known == n:
            lay = _LAY[etype]
        else:
            key = etype << 32 | n
            lay = _LAYOUTS.get(key, _MISSING)
            if lay is _MISSING:
                lay = _LAYOUTS[key] = _layout(self.info, etype, n)
                if known == -1:  # the first count seen for this type: the one kept at hand
                    _LAY_N[etype] = n
                    _LAY[etype] = lay
        if lay is not None:
            vals = lay(self.buf, self.offset, self.len)
            if vals is not None:
                self._vals = vals
                return vals
        vals = self._vals = {}
        return vals

    def param_named(self, name: str) -> Any:
        idx = self.info.index_by_name.get(name)
        if idx is None:
            return None
        return self.param(idx)

    def param_index(self, name: str) -> int | None:
        return self.info.index_by_name.get(name)

    def __repr__(self) -> str:
        return f"<Event num={self.num} ts={self.ts} tid={self.tid} {self.direction} {self.name} ({self.type})>"


# --- value decoding ---------------------------------------------------------------------------

def _int(raw: bytes, signed: bool) -> int | None:
    if not raw:
        return None
    return int.from_bytes(raw, "little", signed=signed)


def _cstr(raw: bytes) -> str:
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    return raw.decode("utf-8", "surrogateescape")


def _ip4(b: bytes) -> str:
    return f"{b[0]}.{b[1]}.{b[2]}.{b[3]}"


def _ip6(b: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, b)


def _port(raw: bytes, at: int) -> int:
    return int(_u16(raw, at)[0])


def decode_sockaddr(raw: bytes) -> tuple[Any, ...] | None:
    """(AF_INET, ip, port) | (AF_INET6, ip, port) | (AF_UNIX, path) | (family, rest_bytes); None if empty."""
    if not raw:
        return None
    fam = raw[0]
    try:
        if fam == AF_INET and len(raw) >= 7:
            return (AF_INET, _ip4(raw[1:5]), _port(raw, 5))
        if fam == AF_INET6 and len(raw) >= 19:
            return (AF_INET6, _ip6(raw[1:17]), _port(raw, 17))
        if fam == AF_UNIX:
            return (AF_UNIX, _cstr(raw[1:]))
    except (struct.error, ValueError, IndexError):
        pass
    return (fam, raw[1:])


def decode_socktuple(raw: bytes) -> tuple[Any, ...] | None:
    """(AF_INET|AF_INET6, sip, sport, dip, dport) | (AF_UNIX, source, dest, path) | (family, rest)."""
    if not raw:
        return None
    fam = raw[0]
    try:
        if fam == AF_INET and len(raw) >= 13:
            return (AF_INET, _ip4(raw[1:5]), _port(raw, 5), _ip4(raw[7:11]), _port(raw, 11))
        if fam == AF_INET6 and len(raw) >= 37:
            return (AF_INET6, _ip6(raw[1:17]), _port(raw, 17), _ip6(raw[19:35]), _port(raw, 35))
        if fam == AF_UNIX and len(raw) >= 17:
            return (AF_UNIX, int(_u64(raw, 1)[0]), int(_u64(raw, 9)[0]), _cstr(raw[17:]))
    except (struct.error, ValueError, IndexError):
        pass
    return (fam, raw[1:])


def decode_fdlist(raw: bytes) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    if len(raw) < 2:
        return out
    n = _u16(raw, 0)[0]
    pos = 2
    for _ in range(n):
        if pos + 10 > len(raw):
            break
        fd = int.from_bytes(raw[pos:pos + 8], "little", signed=True)
        fl = int.from_bytes(raw[pos + 8:pos + 10], "little")
        out.append((fd, fl))
        pos += 10
    return out


def _dyn(raw: bytes, p: et.ParamInfo | None) -> Any:
    if not raw:
        return None
    types = p.dyn_types if p is not None else None
    idx = raw[0]
    if not types or idx >= len(types):
        return raw[1:]
    return decode_value(types[idx][0], raw[1:], None)


_q = struct.Struct("<q").unpack_from
_i32 = struct.Struct("<i").unpack_from
_u32 = struct.Struct("<I").unpack_from


def _sint(buf: Any, a: int, b: int, p: Any) -> int | None:
    n = b - a
    if n == 8:
        return int(_q(buf, a)[0])
    if n == 4:
        return int(_i32(buf, a)[0])
    if n == 0:
        return None
    return int.from_bytes(buf[a:b], "little", signed=True)


def _uint(buf: Any, a: int, b: int, p: Any) -> int | None:
    n = b - a
    if n == 4:
        return int(_u32(buf, a)[0])
    if n == 8:
        return int(_u64(buf, a)[0])
    if n == 2:
        return int(_u16(buf, a)[0])
    if n == 1:
        return int(buf[a])
    if n == 0:
        return None
    return int.from_bytes(buf[a:b], "little")


def _str(buf: Any, a: int, b: int, p: Any) -> str:
    if buf.__class__ is bytes:
        nul = buf.find(b"\0", a, b)
        return buf[a:b if nul < 0 else nul].decode("utf-8", "surrogateescape")
    return _cstr(bytes(buf[a:b]))


def _raw(buf: Any, a: int, b: int, p: Any) -> bytes:
    return bytes(buf[a:b])


def _on_raw(fn: Any) -> Any:
    def dec(buf: Any, a: int, b: int, p: Any) -> Any:
        return fn(bytes(buf[a:b]))
    return dec


def _dyn_dec(buf: Any, a: int, b: int, p: Any) -> Any:
    return _dyn(bytes(buf[a:b]), p)


def _ip4_dec(buf: Any, a: int, b: int, p: Any) -> str | None:
    return _ip4(bytes(buf[a:a + 4])) if b - a >= 4 else None


def _ip6_dec(buf: Any, a: int, b: int, p: Any) -> str | None:
    return _ip6(bytes(buf[a:a + 16])) if b - a >= 16 else None


def _double_dec(buf: Any, a: int, b: int, p: Any) -> float | None:
    return float(struct.unpack_from("<d", buf, a)[0]) if b - a >= 8 else None


_SIGNED = {et.PT_INT8, et.PT_INT16, et.PT_INT32, et.PT_INT64, et.PT_ERRNO, et.PT_FD, et.PT_PID,
           et.PT_FD32, et.PT_PID32}
_UNSIGNED = {et.PT_UINT8, et.PT_UINT16, et.PT_UINT32, et.PT_UINT64, et.PT_SYSCALLID, et.PT_SIGTYPE,
             et.PT_RELTIME, et.PT_ABSTIME, et.PT_PORT, et.PT_L4PROTO, et.PT_SOCKFAMILY, et.PT_BOOL,
             et.PT_FLAGS8, et.PT_FLAGS16, et.PT_FLAGS32, et.PT_UID, et.PT_GID, et.PT_SIGSET, et.PT_MODE,
             et.PT_ENUMFLAGS8, et.PT_ENUMFLAGS16, et.PT_ENUMFLAGS32}
_STRINGS = {et.PT_CHARBUF, et.PT_FSPATH, et.PT_FSRELPATH}

_NDEC = 64
_DECODERS: list[Any] = [_raw] * _NDEC
for _t in _SIGNED:
    _DECODERS[_t] = _sint
for _t in _UNSIGNED:
    _DECODERS[_t] = _uint
for _t in _STRINGS:
    _DECODERS[_t] = _str
_DECODERS[et.PT_SOCKTUPLE] = _on_raw(lambda r: decode_socktuple(r))
_DECODERS[et.PT_SOCKADDR] = _on_raw(lambda r: decode_sockaddr(r))
_DECODERS[et.PT_FDLIST] = _on_raw(lambda r: decode_fdlist(r))
_DECODERS[et.PT_DYN] = _dyn_dec
_DECODERS[et.PT_IPV4ADDR] = _ip4_dec
_DECODERS[et.PT_IPV6ADDR] = _ip6_dec
_DECODERS[et.PT_DOUBLE] = _double_dec


def decode_at(ptype: int, buf: Any, a: int, b: int, p: et.ParamInfo | None) -> Any:
    """Decode the parameter in ``buf[a:b]`` by its ppm type, as ``Event.param`` does."""
    return (_DECODERS[ptype] if 0 <= ptype < _NDEC else _raw)(buf, a, b, p)


def decode_value(ptype: int, raw: bytes, p: et.ParamInfo | None) -> Any:
    """Decode one parameter's bytes by its ppm type (never raises)."""
    fn = _DECODERS[ptype] if 0 <= ptype < _NDEC else _raw
    return fn(raw, 0, len(raw), p)


# --- whole-event layouts ----------------------------------------------------------------------
# Fixed-size parameter types and the struct code of their usual length (what the drivers write).
_FIXED_FMT: dict[int, str] = {
    et.PT_INT8: "b", et.PT_INT16: "h", et.PT_INT32: "i", et.PT_INT64: "q", et.PT_ERRNO: "q",
    et.PT_FD: "q", et.PT_PID: "q", et.PT_FD32: "i", et.PT_PID32: "i",
    et.PT_UINT8: "B", et.PT_UINT16: "H", et.PT_UINT32: "I", et.PT_UINT64: "Q", et.PT_SYSCALLID: "H",
    et.PT_SIGTYPE: "B", et.PT_RELTIME: "Q", et.PT_ABSTIME: "Q", et.PT_PORT: "H", et.PT_L4PROTO: "B",
    et.PT_SOCKFAMILY: "B", et.PT_BOOL: "I", et.PT_FLAGS8: "B", et.PT_FLAGS16: "H", et.PT_FLAGS32: "I",
    et.PT_UID: "I", et.PT_GID: "I", et.PT_SIGSET: "I", et.PT_MODE: "I", et.PT_ENUMFLAGS8: "B",
    et.PT_ENUMFLAGS16: "H", et.PT_ENUMFLAGS32: "I", et.PT_DOUBLE: "d",
}
_LAYOUTS: dict[int, Any] = {}
_LAY_N: list[int] = [-1] * 1024  # per type code: the parameter count of the layout in _LAY
_LAY: list[Any] = [None] * 1024
Layout = Any  # fn(buf, offset, len) -> list of decoded values | None (unusual lengths)


def _layout(info: et.EventInfo, etype: int, n: int) -> Layout | None:
    """A decoder of all parameters of one (type, nparams) in a few struct calls, for events whose
    parameters are fixed-size integers except at most one (a string, buffer, address...). It
    returns None for an event whose lengths differ from the usual ones, which then decodes
    lazily: both ways give the same values."""
    params = info.params
    if n <= 0 or n > len(params) or n >= 64:
        return None
    fmts: list[str] = []
    var = -1
    nvar = 0
    for i in range(n):
        f = _FIXED_FMT.get(params[i].type)
        if f is None:
            nvar += 1
            var = i
            f = ""
        fmts.append(f)
    width = 4 if info.large_payload else 2
    lens = struct.Struct(f"<{n}{'I' if width == 4 else 'H'}").unpack_from
    data = HEADER_LEN + n * width  # offset of the first parameter
    if nvar > 1:
        return _segments(params, fmts, lens, data)
    if var < 0:
        expected = tuple(struct.calcsize(f) for f in fmts)
        total = data + sum(expected)
        unpack = struct.Struct("<" + "".join(fmts)).unpack_from

        def fixed(buf: Any, off: int, elen: int) -> list[Any] | None:
            if elen != total or off + elen > len(buf) or lens(buf, off + HEADER_LEN) != expected:
                return None
            return list(unpack(buf, off + data))
        return fixed
    pre_exp = tuple(struct.calcsize(f) for f in fmts[:var])
    suf_exp = tuple(struct.calcsize(f) for f in fmts[var + 1:])
    pre_size, suf_size = sum(pre_exp), sum(suf_exp)
    pre = struct.Struct("<" + "".join(fmts[:var])).unpack_from
    suf = struct.Struct("<" + "".join(fmts[var + 1:])).unpack_from
    p = params[var]
    dec = _DECODERS[p.type] if p.type < _NDEC else _raw
    nsuf = len(suf_exp)

    def one_var(buf: Any, off: int, elen: int) -> list[Any] | None:
        end = off + elen
        if end > len(buf) or elen < data:
            return None
        ls = lens(buf, off + HEADER_LEN)
        if ls[:var] != pre_exp or ls[var + 1:] != suf_exp:
            return None
        a = off + data + pre_size
        b = a + ls[var]
        if b + suf_size != end:
            return None
        vals = list(pre(buf, off + data)) if var else []
        vals.append(dec(buf, a, b, p))
        if nsuf:
            vals.extend(suf(buf, b))
        return vals
    return one_var


def _segments(params: tuple[et.ParamInfo, ...], fmts: list[str], lens: Any, data: int) -> Layout:
    """The layout of events with several variable-size parameters (clone, execve...): runs of
    fixed-size integers unpack with one struct each, the others with their decoder."""
    fixed = [k for k, f in enumerate(fmts) if f]
    expected = tuple(struct.calcsize(fmts[k]) for k in fixed)
    pick = operator.itemgetter(*fixed) if len(fixed) > 1 else None
    only = fixed[0] if len(fixed) == 1 else -1
    # steps: a run of fixed params (first index, byte size, unpacker) or one variable param
    # (its index, 0, decoder, ParamInfo)
    steps: list[tuple[int, int, Any, Any]] = []
    k = 0
    n = len(fmts)
    while k < n:
        if fmts[k]:
            j = k
            while j < n and fmts[j]:
                j += 1
            run = struct.Struct("<" + "".join(fmts[k:j]))
            steps.append((k, run.size, run.unpack_from, None))  # usual lengths: checked first
            k = j
        else:
            p = params[k]
            steps.append((k, 0, _DECODERS[p.type] if p.type < _NDEC else _raw, p))
            k += 1
    plan = tuple(steps)

    def segments(buf: Any, off: int, elen: int) -> list[Any] | None:
        if off + elen > len(buf) or elen < data:
            return None
        ls = lens(buf, off + HEADER_LEN)
        if pick is not None:
            if pick(ls) != expected:
                return None
        elif only >= 0 and (ls[only],) != expected:
            return None
        if data + sum(ls) != elen:
            return None
        pos = off + data
        out: list[Any] = []
        for first, size, fn, p in plan:
            if size:
                out.extend(fn(buf, pos))
                pos += size
            else:
                b = pos + ls[first]
                out.append(fn(buf, pos, b, p))
                pos = b
        return out
    return segments
