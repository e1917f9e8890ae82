""".scap writer (scap-format.md section 1.12): files sysdig 0.29 and the newest libs both read.

Layout: SHB 1.2, MI, IL_V2, UL_V2, one PL_V9 (5-byte trailer: loginuid, exe_writable), one FDL_V2 per
thread, then one EV_V2 / EVF_V2 block per event (``_LARGE`` variants for large-payload types).

    with ScapWriter("out.scap", initial=reader.initial, compress=True) as w:
        for buf, off, cpu, flags in reader:
            w.write_event(buf, off, cpu, flags)

``encode_event`` builds a v2 PPME event from already-encoded parameter bytes.
"""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from tercel.capture.ppme_layout import LARGE_PAYLOAD_CODES
from tercel.capture.records import (
    FD_BPF,
    FD_FILE_V2,
    FD_IOURING,
    FD_IPV4_SERVSOCK,
    FD_IPV4_SOCK,
    FD_IPV6_SERVSOCK,
    FD_IPV6_SOCK,
    FD_MEMFD,
    FD_NAME_ONLY_TYPES,
    FD_PIDFD,
    FD_UNIX_SOCK,
    FD_UNSUPPORTED,
    FD_USERFAULTFD,
    FdRecord,
    InitialState,
    InterfaceRecord,
    MachineInfo,
    ProcRecord,
)
from tercel.capture.scap_reader import (
    EV_V2,
    EV_V2_LARGE,
    EVF_V2,
    EVF_V2_LARGE,
    FDL_V2,
    IL_V2,
    MI,
    PL_V9,
    SHB,
    UL_V2,
)

_HDR = struct.Struct("<QqIHI")
_U64 = 0xFFFFFFFFFFFFFFFF
MAX_NAME = 1023  # fd names, paths: libscap limits them below 1024 bytes
MAX_USER_FIELD = 255
# fd types sysdig 0.29 rejects: written as UNSUPPORTED with their name (section 1.7)
_NEWEST_FD_TYPES = frozenset({FD_BPF, FD_USERFAULTFD, FD_IOURING, FD_MEMFD, FD_PIDFD})


def _enc(s: str, limit: int) -> bytes:
    return s.encode("utf-8", "surrogateescape")[:limit]


def _lstr(s: str | bytes, limit: int = 0xFFFF) -> bytes:
    b = s if isinstance(s, bytes) else _enc(s, limit)
    b = b[:limit]
    return struct.pack("<H", len(b)) + b


def _nul_items(items: Iterable[str], limit: int) -> bytes:
    out = b"".join(_enc(i, limit) + b"\0" for i in items)
    return out[:limit]


def block(btype: int, body: bytes) -> bytes:
    """One pcapng-style block: type, total length, body, zero padding to 4, trailer."""
    total = (8 + len(body) + 4 + 3) & ~3
    pad = total - 12 - len(body)
    return struct.pack("<II", btype, total) + body + b"\0" * pad + struct.pack("<I", total)


def encode_event(ts: int, tid: int, etype: int, params: Sequence[bytes]) -> bytes:
    """A v2 PPME event from encoded parameter values (u32 lengths for large-payload types)."""
    large = etype in LARGE_PAYLOAD_CODES
    lens = struct.pack(f"<{len(params)}{'I' if large else 'H'}", *(len(p) for p in params))
    data = b"".join(params)
    length = 26 + len(lens) + len(data)
    return _HDR.pack(ts, tid, length, etype, len(params)) + lens + data


def shb() -> bytes:
    return block(SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 2, -1))


def mi_block(m: MachineInfo) -> bytes:
    host = _enc(m.hostname, 127).ljust(128, b"\0")
    body = struct.pack("<IQQ", m.num_cpus, m.memory_size_bytes, m.max_pid) + host + struct.pack(
        "<QQQQ", m.boot_ts_epoch, m.flags, m.reserved3, m.reserved4)
    return block(MI, body)


def il_block(ifaces: Sequence[InterfaceRecord]) -> bytes:
    parts = []
    for i in ifaces:
        v6 = len(i.addr) == 16
        name = _enc(i.name, MAX_NAME)
        entry = struct.pack("<HH", 2 if v6 else 1, len(name)) + i.addr + i.netmask + i.bcast + struct.pack(
            "<Q", i.linkspeed) + name
        parts.append(struct.pack("<I", len(entry)) + entry)  # IL_V2 entry length excludes itself
    return block(IL_V2, b"".join(parts))


def ul_block(state: InitialState) -> bytes:
    parts = []
    for u in state.users:
        entry = struct.pack("<BII", 0, u.uid & 0xFFFFFFFF, u.gid & 0xFFFFFFFF) + _lstr(u.name, MAX_USER_FIELD) + \
            _lstr(u.homedir, MAX_USER_FIELD) + _lstr(u.shell, MAX_USER_FIELD)
        parts.append(struct.pack("<I", len(entry) + 4) + entry)
    for g in state.groups:
        entry = struct.pack("<BI", 1, g.gid & 0xFFFFFFFF) + _lstr(g.name, MAX_USER_FIELD)
        parts.append(struct.pack("<I", len(entry) + 4) + entry)
    return block(UL_V2, b"".join(parts))


def _pl_entry(p: ProcRecord) -> bytes:
    cg = _nul_items((f"{k}={v}" for k, v in p.cgroups), 4096)
    body = b"".join((
        struct.pack("<QQQQQ", *(v & _U64 for v in (p.tid, p.pid, p.ptid, p.sid, p.vpgid))),
        _lstr(p.comm, MAX_NAME), _lstr(p.exe, MAX_NAME), _lstr(p.exepath, MAX_NAME),
        _lstr(_nul_items(p.args, 4096)), _lstr(p.cwd, MAX_NAME),
        struct.pack("<QIII", p.fdlimit & 0xFFFFFFFFFFFFFFFF, p.flags & 0xFFFFFFFF, p.uid & 0xFFFFFFFF,
                    p.gid & 0xFFFFFFFF),
        struct.pack("<IIIQQ", p.vmsize_kb, p.vmrss_kb, p.vmswap_kb, p.pfmajor, p.pfminor),
        _lstr(_nul_items(p.env, 4096)),
        struct.pack("<qq", p.vtid, p.vpid),
        _lstr(cg),
        _lstr(p.root, MAX_NAME),
        struct.pack("<IB", p.loginuid & 0xFFFFFFFF, 1 if p.exe_writable else 0),
    ))
    return struct.pack("<I", len(body) + 4) + body


def pl_block(procs: Sequence[ProcRecord]) -> bytes:
    return block(PL_V9, b"".join(_pl_entry(p) for p in procs))


def _fd_entry(r: FdRecord) -> bytes:
    ftype = r.type
    if ftype in _NEWEST_FD_TYPES:
        ftype = FD_UNSUPPORTED
    head = struct.pack("<qQB", r.fd, r.ino & _U64, ftype)
    if ftype == FD_IPV4_SOCK or ftype == FD_IPV6_SOCK:
        size = 4 if ftype == FD_IPV4_SOCK else 16
        payload = r.sip.ljust(size, b"\0")[:size] + r.dip.ljust(size, b"\0")[:size] + struct.pack(
            "<HHB", r.sport, r.dport, r.l4proto)
    elif ftype == FD_IPV4_SERVSOCK or ftype == FD_IPV6_SERVSOCK:
        size = 4 if ftype == FD_IPV4_SERVSOCK else 16
        payload = r.sip.ljust(size, b"\0")[:size] + struct.pack("<HB", r.sport, r.l4proto)
    elif ftype == FD_UNIX_SOCK:
        payload = struct.pack("<QQ", r.unix_source, r.unix_dest) + _lstr(r.name, MAX_NAME)
    elif ftype == FD_FILE_V2:
        payload = struct.pack("<I", r.open_flags) + _lstr(r.name, MAX_NAME) + struct.pack("<I", r.dev)
    elif ftype in FD_NAME_ONLY_TYPES:
        payload = _lstr(r.name, MAX_NAME)
    else:  # UNKNOWN or out of range: nothing a reader could use
        return b""
    entry = head + payload
    return struct.pack("<I", len(entry) + 4) + entry


def fdl_blocks(fds: Sequence[FdRecord]) -> list[bytes]:
    by_tid: dict[int, list[bytes]] = {}
    for r in fds:
        by_tid.setdefault(r.tid, []).append(_fd_entry(r))
    return [block(FDL_V2, struct.pack("<Q", tid & _U64) + b"".join(entries)) for tid, entries in by_tid.items()]


def event_block(evt: bytes | memoryview, cpu: int = 0, flags: int = 0, etype: int | None = None) -> bytes:
    """The EV_V2/EVF_V2 (or _LARGE) block of one v2 event."""
    if etype is None:
        etype = struct.unpack_from("<H", evt, 20)[0]
    large = etype in LARGE_PAYLOAD_CODES
    if flags:
        return block(EVF_V2_LARGE if large else EVF_V2, struct.pack("<HI", cpu, flags) + bytes(evt))
    return block(EV_V2_LARGE if large else EV_V2, struct.pack("<H", cpu) + bytes(evt))


class ScapWriter:
    """Write a capture: metadata first (from ``initial``), then events."""

    def __init__(self, target: str | os.PathLike[str] | BinaryIO, *, initial: InitialState | None = None,
                 compress: bool = False, compresslevel: int = 6) -> None:
        self._own: BinaryIO | None = None
        if isinstance(target, (str, os.PathLike)):
            raw: BinaryIO = open(target, "wb")  # closed by close()
            self._own = raw
        else:
            raw = target
        self._gz: gzip.GzipFile | None = None
        if compress:
            self._gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel)
            self._out: BinaryIO = self._gz  # type: ignore[assignment]
        else:
            self._out = raw
        self.events_written = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._write_metadata(initial or InitialState())

    def _write_metadata(self, st: InitialState) -> None:
        parts = [shb()]
        if st.machine is not None:
            parts.append(mi_block(st.machine))
        parts.append(il_block(st.interfaces))
        parts.append(ul_block(st))
        parts.append(pl_block(st.procs))  # every PL before any FDL (sysdig 0.29 requires it)
        parts.extend(fdl_blocks(st.fds))
        self._out.write(b"".join(parts))

    def write_event(self, buf: bytes | memoryview, offset: int = 0, cpu: int = 0, flags: int = 0) -> None:
        """Write the v2 event at ``buf[offset:]`` (the tuple form capture sources yield)."""
        length, etype = struct.unpack_from("<IH", buf, offset + 16)
        blk = event_block(memoryview(buf)[offset:offset + length], cpu, flags, etype)
        self._pending.append(blk)
        self._pending_size += len(blk)
        self.events_written += 1
        if self._pending_size >= 1 << 20:
            self.flush()

    def write_events(self, events: Iterable[tuple[bytes | memoryview, int, int, int]]) -> None:
        for buf, off, cpu, flags in events:
            self.write_event(buf, off, cpu, flags)

    def flush(self) -> None:
        if self._pending:
            self._out.write(b"".join(self._pending))
            self._pending.clear()
            self._pending_size = 0

    def close(self) -> None:
        self.flush()
        if self._gz is not None:
            self._gz.close()
            self._gz = None
        if self._own is not None:
            self._own.close()
            self._own = None

    def __enter__(self) -> ScapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_capture(target: str | os.PathLike[str], initial: InitialState,
                  events: Iterable[tuple[bytes | memoryview, int, int, int]], *, compress: bool = False) -> int:
    """Write a whole capture; returns the number of events written."""
    with ScapWriter(target, initial=initial, compress=compress) as w:
        w.write_events(events)
        return w.events_written
