"""Reader of .scap capture files (pcapng-style blocks, plain or gzip), see scap-format.md section 1.

``ScapReader(path)`` parses the section header and the metadata blocks (machine info, interface,
user, process and fd lists) on construction and exposes them as ``reader.initial``
(``tercel.capture.records.InitialState``). Iterating yields one ``(buf, offset, cpu, flags)`` per event
block, with v1 event headers rebuilt as v2 (contract 1). ``buf`` is an immutable ``bytes`` chunk of the
decompressed stream shared by many events: no per-event copy.

Damaged input: everything before the damage is returned, then ``ScapError`` (the only exception this
module raises for bad data) tells the byte offset (in the decompressed stream) and what is wrong.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from tercel.capture.ppme_layout import LARGE_PAYLOAD_CODES, NPARAMS_2022
from tercel.capture.records import (
    FD_BPF,
    FD_DIRECTORY,
    FD_EVENT,
    FD_EVENTPOLL,
    FD_FIFO,
    FD_FILE,
    FD_FILE_V2,
    FD_INOTIFY,
    FD_IOURING,
    FD_IPV4_SERVSOCK,
    FD_IPV4_SOCK,
    FD_IPV6_SERVSOCK,
    FD_IPV6_SOCK,
    FD_MEMFD,
    FD_NETLINK,
    FD_PIDFD,
    FD_SIGNALFD,
    FD_TIMERFD,
    FD_UNIX_SOCK,
    FD_UNSUPPORTED,
    FD_USERFAULTFD,
    FdRecord,
    GroupRecord,
    InitialState,
    InterfaceRecord,
    MachineInfo,
    ProcRecord,
    UserRecord,
)

# Block types (section 1.3)
SHB = 0x0A0D0D0A
MI = 0x201
PL_V1, PL_V2, PL_V3, PL_V4, PL_V5, PL_V6, PL_V7, PL_V8, PL_V9 = (
    0x202, 0x207, 0x209, 0x210, 0x211, 0x212, 0x213, 0x214, 0x215)
FDL = 0x203
FDL_V2 = 0x218
IL = 0x205
IL_V2 = 0x219
UL = 0x206
UL_V2 = 0x220
EV = 0x204
EV_V2 = 0x216
EV_V2_LARGE = 0x221
EVF = 0x208
EVF_V2 = 0x217
EVF_V2_LARGE = 0x222

BYTE_ORDER_MAGIC = 0x1A2B3C4D
NON_LARGE_MAX = 65536

_ALIASES = {0x8002ABCD: MI, 0x8000ABCD: PL_V1, 0x8013ABCD: PL_V2, 0x8014ABCD: PL_V3, 0x8001ABCD: FDL,
            0x8010ABCD: EV, 0x8011ABCD: IL, 0x8012ABCD: UL}
_PL_VERSION = {PL_V1: 1, PL_V2: 2, PL_V3: 3, PL_V4: 4, PL_V5: 5, PL_V6: 6, PL_V7: 7, PL_V8: 8, PL_V9: 9}
EVENT_BLOCKS = frozenset({EV, EV_V2, EV_V2_LARGE, EVF, EVF_V2, EVF_V2_LARGE})
_BLOCK_NAMES = {SHB: "section header", MI: "machine info", FDL: "fd list", FDL_V2: "fd list v2",
                IL: "interface list", IL_V2: "interface list v2", UL: "user list", UL_V2: "user list v2",
                **{t: f"process list v{v}" for t, v in _PL_VERSION.items()}}

_II = struct.Struct("<II").unpack_from
_IIH = struct.Struct("<IIH").unpack_from
_I = struct.Struct("<I").unpack_from
_H = struct.Struct("<H").unpack_from
_B = struct.Struct("<B").unpack_from
_Q = struct.Struct("<Q").unpack_from
_q = struct.Struct("<q").unpack_from
_HDR2 = struct.Struct("<QqIHI")
_BLK_EV2 = struct.Struct("<IIHQqIHI").unpack_from  # EV_V2 block header + v2 event header
_HDR1 = struct.Struct("<QqIH").unpack_from

_NAME_ONLY = frozenset({FD_FILE, FD_DIRECTORY, FD_FIFO, FD_EVENT, FD_UNSUPPORTED, FD_SIGNALFD, FD_EVENTPOLL,
                        FD_INOTIFY, FD_TIMERFD, FD_NETLINK, FD_BPF, FD_USERFAULTFD, FD_IOURING, FD_MEMFD,
                        FD_PIDFD})


class ScapError(Exception):
    """A .scap file is damaged or not a capture. ``offset`` is in the decompressed stream."""

    def __init__(self, message: str, offset: int | None = None, path: str | None = None) -> None:
        self.message = message
        self.offset = offset
        self.path = path
        where = f"{path}: " if path else ""
        at = f"offset {offset}: " if offset is not None else ""
        super().__init__(f"{where}{at}{message}")


class _Cursor:
    """Bounds-checked little-endian reads inside one block body."""

    __slots__ = ("buf", "pos", "end", "base")

    def __init__(self, buf: bytes, pos: int, end: int, base: int) -> None:
        self.buf, self.pos, self.end, self.base = buf, pos, end, base

    def left(self) -> int:
        return self.end - self.pos

    def need(self, n: int, what: str) -> None:
        if self.pos + n > self.end:
            raise ScapError(f"truncated {what}: need {n} bytes, {self.end - self.pos} left",
                            self.base + self.pos)

    def u8(self, what: str = "u8") -> int:
        self.need(1, what)
        v = self.buf[self.pos]
        self.pos += 1
        return v

    def u16(self, what: str = "u16") -> int:
        self.need(2, what)
        v = _H(self.buf, self.pos)[0]
        self.pos += 2
        return int(v)

    def u32(self, what: str = "u32") -> int:
        self.need(4, what)
        v = _I(self.buf, self.pos)[0]
        self.pos += 4
        return int(v)

    def u64(self, what: str = "u64") -> int:
        self.need(8, what)
        v = _Q(self.buf, self.pos)[0]
        self.pos += 8
        return int(v)

    def i64(self, what: str = "i64") -> int:
        self.need(8, what)
        v = _q(self.buf, self.pos)[0]
        self.pos += 8
        return int(v)

    def raw(self, n: int, what: str) -> bytes:
        self.need(n, what)
        v = self.buf[self.pos:self.pos + n]
        self.pos += n
        return v

    def lstr_bytes(self, what: str) -> bytes:
        n = self.u16(what + " length")
        return self.raw(n, what)

    def lstr(self, what: str) -> str:
        return _text(self.lstr_bytes(what))


def _text(b: bytes) -> str:
    nul = b.find(b"\0")
    if nul >= 0:
        b = b[:nul]
    return b.decode("utf-8", "surrogateescape")


def _items(b: bytes) -> list[str]:
    """NUL-separated items (each NUL-terminated, the last terminator optional)."""
    if not b:
        return []
    parts = b.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "surrogateescape") for p in parts]


def _cgroups(b: bytes) -> list[tuple[str, str]]:
    out = []
    for item in _items(b):
        k, sep, v = item.partition("=")
        out.append((k, v) if sep else (item, ""))
    return out


def infer_v1_nparams(etype: int, data: bytes, pos: int, v1len: int) -> int | None:
    """nparams of a v1 event: the largest n <= table count whose lengths add up to the event length."""
    count = NPARAMS_2022[etype] if etype < len(NPARAMS_2022) else 0
    width = 4 if etype in LARGE_PAYLOAD_CODES else 2
    avail = v1len - 22
    for n in range(count, -1, -1):
        if n * width > avail:
            continue
        fmt = f"<{n}{'I' if width == 4 else 'H'}"
        total = sum(struct.unpack_from(fmt, data, pos + 22)) if n else 0
        if 22 + width * n + total == v1len:
            return n
    return None


class ScapReader:
    """Iterate the events of a .scap file; ``initial`` holds its metadata records."""

    def __init__(self, source: str | os.PathLike[str] | bytes | bytearray | BinaryIO, *,
                 chunk_size: int = 4 << 20) -> None:
        self.path: str | None = None
        self._chunk = chunk_size
        self._own: BinaryIO | None = None
        self._raw: BinaryIO
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._raw = io.BytesIO(bytes(source))
            self.compressed_size: int | None = len(source)
        elif isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
            try:
                f = open(self.path, "rb")
            except OSError as e:
                raise ScapError(f"cannot open: {e.strerror or e}", None, self.path) from None
            self._own = f
            self._raw = f
            try:
                self.compressed_size = os.fstat(f.fileno()).st_size
            except OSError:
                self.compressed_size = None
        else:
            self._raw = source
            self.compressed_size = None
        head = self._peek2()
        self.gzipped = head == b"\x1f\x8b"
        self._stream: BinaryIO = (gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]
                                  if self.gzipped else self._raw)
        # read1: one decompression step per call, so a damaged tail loses no earlier data
        self._read_fn = getattr(self._stream, "read1", self._stream.read)
        self._buf = b""
        self._pos = 0
        self._base = 0
        self._eof = False
        self.initial = InitialState()
        self.sections = 0
        self.events_read = 0
        self.version: tuple[int, int] = (0, 0)
        self._read_section_header()
        self._read_metadata()

    # --- plumbing ------------------------------------------------------------------------------
    def _peek2(self) -> bytes:
        raw = self._raw
        try:
            if raw.seekable():
                pos = raw.tell()
                head = raw.read(2)
                raw.seek(pos)
                return head
        except (OSError, AttributeError):
            pass
        # Non-seekable stream: buffer it.
        data = raw.read()
        self._raw = io.BytesIO(data)
        return data[:2]

    def _read(self, n: int) -> bytes:
        try:
            return bytes(self._read_fn(n))
        except (OSError, EOFError, zlib.error) as e:
            raise ScapError(f"damaged gzip stream: {e}", self._base + len(self._buf), self.path) from None

    def _fill(self, need: int) -> bool:
        """Make at least ``need`` bytes available at ``_pos``; False at end of file."""
        buf = self._buf
        avail = len(buf) - self._pos
        if avail >= need:
            return True
        if self._eof:
            return False
        chunks = [buf[self._pos:]]
        total = avail
        while total < need:
            data = self._read(max(self._chunk, need - total))
            if not data:
                self._eof = True
                break
            chunks.append(data)
            total += len(data)
        self._base += self._pos
        self._buf = b"".join(chunks)
        self._pos = 0
        return total >= need

    @property
    def offset(self) -> int:
        """Current position in the decompressed stream."""
        return self._base + self._pos

    def progress(self) -> float | None:
        """Fraction of the (compressed) file consumed, for progress bars; None if unknown."""
        if not self.compressed_size:
            return None
        try:
            return min(1.0, self._raw.tell() / self.compressed_size)
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None

    def __enter__(self) -> ScapReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # records, for consumers that prefer attributes over ``initial``
    @property
    def machine(self) -> MachineInfo | None:
        return self.initial.machine

    @property
    def procs(self) -> list[ProcRecord]:
        return self.initial.procs

    @property
    def fds(self) -> list[FdRecord]:
        return self.initial.fds

    @property
    def users(self) -> list[UserRecord]:
        return self.initial.users

    @property
    def groups(self) -> list[GroupRecord]:
        return self.initial.groups

    @property
    def interfaces(self) -> list[InterfaceRecord]:
        return self.initial.interfaces

    def _err(self, msg: str, at: int | None = None) -> ScapError:
        return ScapError(msg, self.offset if at is None else at, self.path)

    # --- blocks --------------------------------------------------------------------------------
    def _block_header(self) -> tuple[int, int] | None:
        """(type, total_length) of the block at the cursor, fully buffered; None at a clean EOF."""
        if not self._fill(8):
            if len(self._buf) - self._pos == 0:
                return None
            raise self._err(f"truncated block header: {len(self._buf) - self._pos} bytes at end of file")
        btype, blen = _II(self._buf, self._pos)
        btype = _ALIASES.get(btype, btype)
        if blen < 12:
            raise self._err(f"invalid block total length {blen} (block type 0x{btype:x})")
        if not self._fill(blen):
            raise self._err(f"truncated block (type 0x{btype:x}): length {blen}, "
                            f"{len(self._buf) - self._pos} bytes left in file")
        trailer = _I(self._buf, self._pos + blen - 4)[0]
        if trailer != blen:
            raise self._err(f"wrong block total length, header={blen}, trailer={trailer}")
        return btype, blen

    def _read_section_header(self) -> None:
        hdr = self._block_header()
        if hdr is None:
            raise self._err("empty file: no section header block")
        btype, blen = hdr
        if btype != SHB:
            raise self._err(f"invalid block type 0x{btype:x}: a capture starts with a section header block")
        self._parse_shb(blen)

    def _parse_shb(self, blen: int) -> None:
        if blen < 28:
            raise self._err(f"section header block too short ({blen} bytes)")
        magic, major, minor = struct.unpack_from("<IHH", self._buf, self._pos + 8)
        if magic != BYTE_ORDER_MAGIC:
            raise self._err(f"invalid magic number 0x{magic:08x} (big-endian or not a scap file)")
        if major > 1:
            raise self._err(f"unsupported capture version {major}.{minor}")
        self.version = (major, minor)
        self.sections += 1
        self._pos += blen

    def _read_metadata(self) -> None:
        """Parse metadata blocks up to (not including) the first event block of the section."""
        while True:
            hdr = self._block_header()
            if hdr is None:
                return
            btype, blen = hdr
            if btype in EVENT_BLOCKS:
                return
            if btype == SHB:
                self._parse_shb(blen)
                continue
            start = self._pos
            body = _Cursor(self._buf, start + 8, start + blen - 4, self._base)
            try:
                self._parse_meta(btype, body)
            except ScapError as e:
                raise ScapError(f"in {_BLOCK_NAMES.get(btype, hex(btype))} block at offset "
                                f"{self._base + start}: {e.message}", e.offset, self.path) from None
            except (struct.error, IndexError, ValueError) as e:
                raise self._err(f"corrupt {_BLOCK_NAMES.get(btype, hex(btype))} block: {e}", self._base + start) \
                    from None
            self._pos = start + blen

    def _parse_meta(self, btype: int, c: _Cursor) -> None:
        if btype == MI:
            self.initial.machine = _parse_mi(c)
        elif btype in _PL_VERSION:
            self.initial.procs.extend(_parse_pl(c, _PL_VERSION[btype]))
        elif btype in (FDL, FDL_V2):
            self.initial.fds.extend(_parse_fdl(c, btype == FDL_V2))
        elif btype in (IL, IL_V2):
            self.initial.interfaces = _parse_il(c, btype == IL_V2)
        elif btype in (UL, UL_V2):
            users, groups = _parse_ul(c, btype == UL_V2)
            self.initial.users, self.initial.groups = users, groups
        # anything else: unknown metadata block, skipped by length (as libscap does)

    # --- events --------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple[bytes, int, int, int]]:
        return self._events()

    def _events(self) -> Iterator[tuple[bytes, int, int, int]]:
        nonlarge_max = NON_LARGE_MAX + 8
        large_codes = LARGE_PAYLOAD_CODES
        hdr2 = _HDR2.unpack_from
        blk_ev2 = _BLK_EV2
        while True:
            buf = self._buf
            pos = self._pos
            end = len(buf)
            # Fastest path: a run of buffered plain v2 event blocks, block and event header in one
            # unpack; anything else (or anything wrong) goes to the checks below.
            while end - pos >= 38:
                btype, blen, cpu, _ts, _tid, elen, etype, nparams = blk_ev2(buf, pos)
                if btype != EV_V2 or pos + blen > end or blen > nonlarge_max or elen > blen - 14 \
                        or elen < 26 or nparams * (4 if etype in large_codes else 2) > elen - 26 \
                        or _I(buf, pos + blen - 4)[0] != blen:
                    break
                self._pos = pos + blen
                self.events_read += 1
                yield buf, pos + 10, cpu, 0
                pos += blen
            # Fast path: whole block already buffered.
            if len(buf) - pos >= 12:
                btype, blen, cpu = _IIH(buf, pos)
                if blen >= 12 and pos + blen <= len(buf) and btype in (EV_V2, EVF_V2, EV_V2_LARGE, EVF_V2_LARGE):
                    if _I(buf, pos + blen - 4)[0] != blen:
                        raise self._err(f"wrong block total length, header={blen}, trailer={_I(buf, pos + blen - 4)[0]}")
                    if btype == EV_V2 or btype == EV_V2_LARGE:
                        off = pos + 10
                        flags = 0
                        room = blen - 14
                    else:
                        off = pos + 14
                        flags = _I(buf, pos + 10)[0]
                        room = blen - 18
                    if room < 26:
                        raise self._err(f"event block too short ({blen} bytes)")
                    _ts, _tid, elen, etype, nparams = hdr2(buf, off)
                    if elen > room or elen < 26:
                        raise self._err(f"event length {elen} does not fit its block ({blen} bytes)")
                    if nparams * (4 if etype in large_codes else 2) > elen - 26:
                        raise self._err(f"event of type {etype} claims {nparams} parameters in {elen} bytes")
                    if blen > nonlarge_max and btype in (EV_V2, EVF_V2):
                        raise self._err(f"event block length {blen} greater than NON-LARGE read buffer size")
                    self._pos = pos + blen
                    self.events_read += 1
                    yield buf, off, cpu, flags
                    continue
            # Slow path: refill, v1 events, new sections, end of file.
            hdr = self._block_header()
            if hdr is None:
                if self.events_read == 0:
                    raise self._err("no events in file")
                return
            btype, blen = hdr
            if btype == SHB:
                self._parse_shb(blen)
                self._read_metadata()
                continue
            if btype in (EV, EVF):
                ev = self._v1_event(btype, blen)
                self._pos += blen
                self.events_read += 1
                yield ev
                continue
            if btype in EVENT_BLOCKS:
                continue  # buffered now: the fast path takes it
            raise self._err(f"invalid block type 0x{btype:x} after the first event block")

    def _v1_event(self, btype: int, blen: int) -> tuple[bytes, int, int, int]:
        buf = self._buf
        pos = self._pos
        cpu = _H(buf, pos + 8)[0]
        if btype == EVF:
            flags = _I(buf, pos + 10)[0]
            off = pos + 14
            room = blen - 18
        else:
            flags = 0
            off = pos + 10
            room = blen - 14
        if room < 22:
            raise self._err(f"event block too short ({blen} bytes)")
        ts, tid, elen, etype = _HDR1(buf, off)
        if elen > room or elen < 22:
            raise self._err(f"event length {elen} does not fit its block ({blen} bytes)")
        if etype in (280, 286):  # NOTIFICATION_E / INFRASTRUCTURE_EVENT_E: v1 len is 3 bytes too large
            elen -= 3
        n = infer_v1_nparams(etype, buf, off, elen)
        if n is None:
            raise self._err(f"cannot rebuild the parameter count of a v1 event of type {etype}")
        data = _HDR2.pack(ts, tid, elen + 4, etype, n) + buf[off + 22:off + elen]
        return data, 0, cpu, flags


# --- metadata parsers ------------------------------------------------------------------------

def _parse_mi(c: _Cursor) -> MachineInfo:
    num_cpus = c.u32("num_cpus")
    mem = c.u64("memory_size_bytes")
    max_pid = c.u64("max_pid")
    host = _text(c.raw(128, "hostname"))
    vals = [c.u64("reserved") if c.left() >= 8 else 0 for _ in range(4)]
    return MachineInfo(num_cpus, mem, max_pid, host, vals[0], vals[1], vals[2], vals[3])


def _parse_pl(c: _Cursor, ver: int) -> list[ProcRecord]:
    out = []
    while c.left() >= 4:
        entry_end = c.end
        if ver == 9:
            entry_start = c.pos
            elen = c.u32("process entry length")
            if elen < 4 or entry_start + elen > c.end:
                raise ScapError(f"process entry length {elen} exceeds its block", c.base + entry_start)
            entry_end = entry_start + elen
        saved_end = c.end
        c.end = entry_end
        tid = c.u64("tid")
        pid = c.u64("pid")
        ptid = c.u64("ptid")
        p = ProcRecord(tid, pid, ptid)
        if ver >= 6:
            p.sid = c.u64("sid")
        if ver >= 8:
            p.vpgid = c.u64("vpgid")
        p.comm = c.lstr("comm")
        p.exe = c.lstr("exe")
        if ver >= 7:
            p.exepath = c.lstr("exepath")
        p.args = _items(c.lstr_bytes("args"))
        p.cwd = c.lstr("cwd")
        p.fdlimit = c.u64("fdlimit")
        p.flags = c.u32("flags")
        p.uid = c.u32("uid")
        p.gid = c.u32("gid")
        if ver >= 2:
            p.vmsize_kb = c.u32("vmsize")
            p.vmrss_kb = c.u32("vmrss")
            p.vmswap_kb = c.u32("vmswap")
            p.pfmajor = c.u64("pfmajor")
            p.pfminor = c.u64("pfminor")
        if ver >= 3:
            p.env = _items(c.lstr_bytes("env"))
        if ver >= 4:
            p.vtid = c.i64("vtid")
            p.vpid = c.i64("vpid")
            p.cgroups = _cgroups(c.lstr_bytes("cgroups"))
        if ver >= 5:
            p.root = c.lstr("root")
        if ver == 9:
            _pl_trailer(c, p)
            c.pos = entry_end
        c.end = saved_end
        out.append(p)
    return out


def _pl_trailer(c: _Cursor, p: ProcRecord) -> None:
    left = c.left()
    if left <= 29:  # 2022-era layout: loginuid, exe_writable [, caps]
        if left >= 4:
            p.loginuid = c.u32()
        if left >= 5:
            p.exe_writable = c.u8() != 0
        if left >= 29:
            p.cap_inheritable, p.cap_permitted, p.cap_effective = c.u64(), c.u64(), c.u64()
        return
    # 0.10+ layout; every field only while bytes remain
    p.pidns_init_start_ts = c.u64()
    if c.left() >= 4:
        p.tty = c.u32()
    if c.left() >= 4:
        p.loginuid = c.u32()
    if c.left() >= 1:
        p.exe_writable = c.u8() != 0
    if c.left() >= 24:
        p.cap_inheritable, p.cap_permitted, p.cap_effective = c.u64(), c.u64(), c.u64()
    if c.left() >= 1:
        p.exe_upper_layer = c.u8() != 0
    if c.left() >= 24:
        p.exe_ino, p.exe_ino_ctime, p.exe_ino_mtime = c.u64(), c.u64(), c.u64()
    if c.left() >= 1:
        p.exe_from_memfd = c.u8() != 0
    if c.left() >= 1:
        p.exe_lower_layer = c.u8() != 0
    if c.left() >= 8:
        p.pgid = c.i64()


def _parse_fdl(c: _Cursor, v2: bool) -> list[FdRecord]:
    tid = c.u64("tid")
    out = []
    while c.left() >= 4:
        entry_start = c.pos
        saved_end = c.end
        if v2:
            elen = c.u32("fd entry length")
            if elen < 4 or entry_start + elen > c.end:
                raise ScapError(f"fd entry length {elen} exceeds its block", c.base + entry_start)
            c.end = entry_start + elen
        fd = c.i64("fd")
        ino = c.u64("ino")
        ftype = c.u8("fd type")
        r = FdRecord(tid, fd, ftype, ino)
        if ftype in _NAME_ONLY:
            r.name = c.lstr("fd name")
        elif ftype == FD_IPV4_SOCK:
            r.sip, r.dip = c.raw(4, "sip"), c.raw(4, "dip")
            r.sport, r.dport, r.l4proto = c.u16(), c.u16(), c.u8()
        elif ftype == FD_IPV6_SOCK:
            r.sip, r.dip = c.raw(16, "sip"), c.raw(16, "dip")
            r.sport, r.dport, r.l4proto = c.u16(), c.u16(), c.u8()
        elif ftype == FD_IPV4_SERVSOCK:
            r.sip, r.sport, r.l4proto = c.raw(4, "ip"), c.u16(), c.u8()
        elif ftype == FD_IPV6_SERVSOCK:
            r.sip, r.sport, r.l4proto = c.raw(16, "ip"), c.u16(), c.u8()
        elif ftype == FD_UNIX_SOCK:
            r.unix_source, r.unix_dest = c.u64(), c.u64()
            r.name = c.lstr("unix path")
        elif ftype == FD_FILE_V2:
            r.open_flags = c.u32("open flags")
            r.name = c.lstr("fd name")
            if v2 and c.left() >= 4:
                r.dev = c.u32("dev")
        elif v2:
            r.type = FD_UNSUPPORTED  # newer type: skipped by its length, as the newest libscap does
        else:
            raise ScapError(f"error reading the fd info from file, wrong fd type {ftype}", c.base + entry_start)
        if v2:
            c.pos = c.end
            c.end = saved_end
        out.append(r)
    return out


_IL_SIZES = {1: (4, True), 2: (16, True), 3: (4, False), 4: (16, False)}


def _parse_il(c: _Cursor, v2: bool) -> list[InterfaceRecord]:
    out = []
    while c.left() >= 4:
        entry_start = c.pos
        saved_end = c.end
        if v2:
            elen = c.u32("interface entry length")  # excludes its own 4 bytes
            if c.pos + elen > c.end:
                raise ScapError(f"corrupted interface list: entry length {elen} exceeds its block",
                                c.base + entry_start)
            c.end = c.pos + elen
        itype = c.u16("interface type")
        namelen = c.u16("interface name length")
        if itype not in _IL_SIZES:
            if v2:
                c.pos = c.end
                c.end = saved_end
                continue
            raise ScapError(f"corrupted interface list: type {itype}", c.base + entry_start)
        asz, has_speed = _IL_SIZES[itype]
        addr, mask, bcast = c.raw(asz, "addr"), c.raw(asz, "netmask"), c.raw(asz, "bcast")
        speed = c.u64("linkspeed") if has_speed else 0
        name = _text(c.raw(namelen, "interface name"))
        out.append(InterfaceRecord(1 if asz == 4 else 2, name, addr, mask, bcast, speed))
        if v2:
            c.pos = c.end
            c.end = saved_end
    return out


def _parse_ul(c: _Cursor, v2: bool) -> tuple[list[UserRecord], list[GroupRecord]]:
    users: list[UserRecord] = []
    groups: list[GroupRecord] = []
    while c.left() >= 4:
        entry_start = c.pos
        saved_end = c.end
        if v2:
            elen = c.u32("user entry length")
            if elen < 4 or entry_start + elen > c.end:
                raise ScapError(f"user entry length {elen} exceeds its block", c.base + entry_start)
            c.end = entry_start + elen
        kind = c.u8("user entry type")
        if kind == 0:
            uid, gid = c.u32("uid"), c.u32("gid")
            users.append(UserRecord(uid, gid, c.lstr("user name"), c.lstr("home"), c.lstr("shell")))
        elif kind == 1:
            gid = c.u32("gid")
            groups.append(GroupRecord(gid, c.lstr("group name")))
        elif not v2:
            raise ScapError(f"corrupted user list: entry type {kind}", c.base + entry_start)
        if v2:
            c.pos = c.end
            c.end = saved_end
    return users, groups


def open_capture(source: str | os.PathLike[str] | bytes | BinaryIO) -> ScapReader:
    """A capture source over a .scap file (contract 1): iterable, with ``initial`` records."""
    return ScapReader(source)


def read_all(source: str | os.PathLike[str] | bytes) -> tuple[InitialState, list[tuple[bytes, int, int, int]]]:
    """Convenience for tests and tools: the initial state and every event of a capture."""
    with ScapReader(source) as r:
        return r.initial, list(r)
