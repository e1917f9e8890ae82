"""Initial state of a live system from /proc: machine, users, interfaces, every thread and its fds.

Processes come and go during the scan: anything that vanishes (or cannot be read) is skipped, never an
error. Socket fds are resolved through the socket tables of the process's own network namespace
(/proc/<pid>/net/*), read once per namespace.
"""

from __future__ import annotations

import errno
import fcntl
import grp
import os
import pwd
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

from tercel.capture.records import (
    FD_BPF,
    FD_DIRECTORY,
    FD_EVENT,
    FD_EVENTPOLL,
    FD_FIFO,
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
    IF_IPV4,
    IF_IPV6,
    L4_NA,
    L4_RAW,
    L4_TCP,
    L4_UDP,
    UID_NONE,
    FdRecord,
    GroupRecord,
    InitialState,
    InterfaceRecord,
    MachineInfo,
    ProcRecord,
    UserRecord,
)

PROC = Path("/proc")
CL_THREAD_FILES = 0x2000 | 0x1  # PPM_CL_CLONE_THREAD | PPM_CL_CLONE_FILES: secondary threads

_ANON_TYPES = {
    "[eventfd]": FD_EVENT, "[eventpoll]": FD_EVENTPOLL, "[signalfd]": FD_SIGNALFD, "inotify": FD_INOTIFY,
    "[timerfd]": FD_TIMERFD, "bpf-map": FD_BPF, "bpf-prog": FD_BPF, "bpf_link": FD_BPF,
    "[userfaultfd]": FD_USERFAULTFD, "[io_uring]": FD_IOURING, "[pidfd]": FD_PIDFD,
}

# Linux open flags -> PPM_O_* (same table as the BPF program)
_O_BITS = ((0o100, 1 << 2), (0o2000, 1 << 3), (0o10000, 1 << 4), (0o200, 1 << 5), (0o4000, 1 << 6),
           (0o4000000, 1 << 7), (0o1000, 1 << 8), (0o40000, 1 << 9), (0o200000, 1 << 10),
           (0o100000, 1 << 11), (0o2000000, 1 << 12))


def open_flags_to_ppm(flags: int) -> int:
    out = (1, 2, 3, 3)[flags & 3]
    for linux, ppm in _O_BITS:
        if flags & linux == linux:
            out |= ppm
    if flags & 0o20200000 == 0o20200000:
        out |= 1 << 13  # O_TMPFILE
    return out


def encode_dev(st_dev: int) -> int:
    """new_encode_dev() of a userspace dev_t, as the drivers put it in `dev` params."""
    major, minor = os.major(st_dev), os.minor(st_dev)
    return (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)


def _read(path: str | Path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _items(b: bytes) -> list[str]:
    return [_text(x) for x in b.split(b"\0") if x] if b else []


# ---- machine, users, interfaces ----------------------------------------------------------------
def boot_ts_epoch() -> int:
    return time.time_ns() - time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def scan_machine() -> MachineInfo:
    mem = 0
    try:
        for line in _read(PROC / "meminfo").decode().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        max_pid = int(_read(PROC / "sys/kernel/pid_max"))
    except (OSError, ValueError):
        max_pid = 0
    return MachineInfo(num_cpus=os.cpu_count() or 1, memory_size_bytes=mem, max_pid=max_pid,
                       hostname=socket.gethostname(), boot_ts_epoch=boot_ts_epoch())


def scan_users() -> tuple[list[UserRecord], list[GroupRecord]]:
    users = [UserRecord(u.pw_uid, u.pw_gid, u.pw_name, u.pw_dir, u.pw_shell) for u in pwd.getpwall()]
    groups = [GroupRecord(g.gr_gid, g.gr_name) for g in grp.getgrall()]
    return users, groups


_SIOCGIFADDR, _SIOCGIFNETMASK, _SIOCGIFBRDADDR = 0x8915, 0x891B, 0x8919


def scan_interfaces() -> list[InterfaceRecord]:
    out: list[InterfaceRecord] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            req = struct.pack("16s16x", name.encode()[:15])
            addrs: list[bytes] = []
            for code in (_SIOCGIFADDR, _SIOCGIFNETMASK, _SIOCGIFBRDADDR):
                try:
                    addrs.append(fcntl.ioctl(s.fileno(), code, req)[20:24])
                except OSError:
                    addrs.append(b"\0\0\0\0")
            if addrs[0] != b"\0\0\0\0":
                out.append(InterfaceRecord(IF_IPV4, name, addrs[0], addrs[1], addrs[2]))
    try:
        for line in _read(PROC / "net/if_inet6").decode().splitlines():
            f = line.split()
            if len(f) >= 6:
                plen = int(f[2], 16)
                mask = ((1 << 128) - (1 << (128 - plen))).to_bytes(16, "big") if plen else b"\0" * 16
                out.append(InterfaceRecord(IF_IPV6, f[5], bytes.fromhex(f[0]), mask, b"\0" * 16))
    except OSError:
        pass
    return out


# ---- sockets -----------------------------------------------------------------------------------
def _ip4(hexs: str) -> bytes:
    return struct.pack("<I", int(hexs, 16))  # /proc prints the raw s_addr as a host-order int


def _ip6(hexs: str) -> bytes:
    return b"".join(struct.pack("<I", int(hexs[i:i + 8], 16)) for i in range(0, 32, 8))


class SocketTables:
    """inode -> FdRecord template, per network namespace (cached by the namespace inode)."""

    def __init__(self) -> None:
        self._by_ns: dict[str, dict[int, FdRecord]] = {}

    def lookup(self, pid: int, ino: int) -> FdRecord | None:
        try:
            ns = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            ns = "?"
        table = self._by_ns.get(ns)
        if table is None:
            table = self._by_ns[ns] = self._load(pid)
        return table.get(ino)

    def _load(self, pid: int) -> dict[int, FdRecord]:
        table: dict[int, FdRecord] = {}
        base = f"/proc/{pid}/net/"
        for fname, proto, v6 in (("tcp", L4_TCP, False), ("udp", L4_UDP, False), ("raw", L4_RAW, False),
                                 ("tcp6", L4_TCP, True), ("udp6", L4_UDP, True), ("raw6", L4_RAW, True)):
            try:
                lines = _read(base + fname).decode().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                f = line.split()
                try:
                    (lip, lport), (rip, rport) = (x.split(":") for x in (f[1], f[2]))
                    ino = int(f[9])
                except (IndexError, ValueError):
                    continue
                conv = _ip6 if v6 else _ip4
                lport_i, rport_i = int(lport, 16), int(rport, 16)
                listening = (proto == L4_TCP and f[3] == "0A") or (proto != L4_TCP and rport_i == 0)
                if listening:
                    rec = FdRecord(0, 0, FD_IPV6_SERVSOCK if v6 else FD_IPV4_SERVSOCK, ino=ino,
                                   sip=conv(lip), sport=lport_i, l4proto=proto)
                else:
                    rec = FdRecord(0, 0, FD_IPV6_SOCK if v6 else FD_IPV4_SOCK, ino=ino, sip=conv(lip),
                                   sport=lport_i, dip=conv(rip), dport=rport_i, l4proto=proto)
                table[ino] = rec
        try:
            lines = _read(base + "unix").decode("utf-8", "surrogateescape").splitlines()[1:]
        except OSError:
            lines = []
        for line in lines:
            f = line.split(None, 7)
            if len(f) >= 7 and f[6].isdigit():
                ino = int(f[6])
                try:
                    src = int(f[0].rstrip(":"), 16)
                except ValueError:
                    src = 0
                table[ino] = FdRecord(0, 0, FD_UNIX_SOCK, ino=ino, unix_source=src,
                                      name=f[7] if len(f) > 7 else "", l4proto=L4_NA)
        try:
            lines = _read(base + "netlink").decode().splitlines()[1:]
        except OSError:
            lines = []
        for line in lines:
            f = line.split()
            if len(f) >= 10 and f[9].isdigit():
                table[int(f[9])] = FdRecord(0, 0, FD_NETLINK, ino=int(f[9]))
        return table


# ---- fds ---------------------------------------------------------------------------------------
def _fdinfo(pid: int, fd: int) -> tuple[int, int]:
    flags = ino = 0
    try:
        for line in _read(f"/proc/{pid}/fdinfo/{fd}").decode().splitlines():
            if line.startswith("flags:"):
                flags = int(line.split()[1], 8)
            elif line.startswith("ino:"):
                ino = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return flags, ino


def scan_fds(pid: int, sockets: SocketTables) -> list[FdRecord]:
    out: list[FdRecord] = []
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except OSError:
        return out
    for n in names:
        try:
            fd = int(n)
            target = os.readlink(f"{base}/{n}")
        except (OSError, ValueError):
            continue
        flags, ino = _fdinfo(pid, fd)
        rec: FdRecord
        if target.startswith("socket:["):
            sino = int(target[8:-1])
            tmpl = sockets.lookup(pid, sino)
            if tmpl is None:
                rec = FdRecord(pid, fd, FD_UNSUPPORTED, ino=sino, name=target)
            else:
                rec = FdRecord(pid, fd, tmpl.type, ino=sino, name=tmpl.name, sip=tmpl.sip, dip=tmpl.dip,
                               sport=tmpl.sport, dport=tmpl.dport, l4proto=tmpl.l4proto,
                               unix_source=tmpl.unix_source, unix_dest=tmpl.unix_dest)
        elif target.startswith("pipe:["):
            rec = FdRecord(pid, fd, FD_FIFO, ino=int(target[6:-1]), name=target)
        elif target.startswith("anon_inode:"):
            kind = target[11:]
            rec = FdRecord(pid, fd, _ANON_TYPES.get(kind, FD_UNSUPPORTED), ino=ino, name=target)
        elif target.startswith("/memfd:"):
            rec = FdRecord(pid, fd, FD_MEMFD, ino=ino, name=target[1:], open_flags=open_flags_to_ppm(flags))
        elif target.startswith("/"):
            try:
                st = os.stat(f"{base}/{n}")
                dev, is_dir = encode_dev(st.st_dev), (st.st_mode & 0o170000) == 0o040000
                ino = ino or st.st_ino
            except OSError:
                dev, is_dir = 0, False
            if is_dir:
                rec = FdRecord(pid, fd, FD_DIRECTORY, ino=ino, name=target)
            else:
                rec = FdRecord(pid, fd, FD_FILE_V2, ino=ino, name=target, open_flags=open_flags_to_ppm(flags),
                               dev=dev)
        else:
            rec = FdRecord(pid, fd, FD_UNSUPPORTED, ino=ino, name=target)
        out.append(rec)
    return out


# ---- processes ---------------------------------------------------------------------------------
def _status(path: str) -> dict[str, str]:
    out = {}
    for line in _read(path).decode("utf-8", "surrogateescape").splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def _kb(v: str | None) -> int:
    return int(v.split()[0]) if v else 0


def _cgroups(pid: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    unified = None
    for line in _text(_read(f"/proc/{pid}/cgroup")).splitlines():
        hid, _, rest = line.partition(":")
        ctrls, _, path = rest.partition(":")
        if hid == "0" and not ctrls:
            unified = path
            continue
        for c in ctrls.split(","):
            if c and not c.startswith("name="):
                out.append((c, path))
    if not out and unified is not None:
        # pure cgroup v2: the kernel reports every enabled controller at the unified path
        try:
            ctrls_v2 = _read("/sys/fs/cgroup/cgroup.controllers").decode().split()
        except OSError:
            ctrls_v2 = []
        out = [(c, unified) for c in ctrls_v2]
    return out


def _readlink(path: str) -> str:
    try:
        t = os.readlink(path)
    except OSError:
        return ""
    return t[:-10] if t.endswith(" (deleted)") else t


def scan_thread(pid: int, tid: int, main: ProcRecord | None) -> ProcRecord | None:
    """One thread; `main` is the already-scanned main thread whose process-wide fields are shared."""
    tbase = f"/proc/{pid}/task/{tid}"
    try:
        st = _status(f"{tbase}/status")
        stat = _read(f"{tbase}/stat").decode("utf-8", "surrogateescape")
        comm = _text(_read(f"{tbase}/comm")).rstrip("\n")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    # fields[0] is the state (field 3 of stat)
    pgrp, sid, tty = int(fields[2]), int(fields[3]), int(fields[4])
    minflt, majflt = int(fields[7]), int(fields[9])
    uids, gids = st.get("Uid", "").split(), st.get("Gid", "").split()
    nspid, nstgid, nspgid = st.get("NSpid", "").split(), st.get("NStgid", "").split(), st.get("NSpgid", "").split()
    rec = ProcRecord(
        tid=tid, pid=pid, ptid=int(st.get("PPid", "0") or 0), comm=comm, sid=sid,
        vpgid=int(nspgid[-1]) if nspgid else pgrp, pgid=pgrp,
        flags=0 if tid == pid else CL_THREAD_FILES,
        uid=int(uids[1]) if len(uids) > 1 else UID_NONE, gid=int(gids[1]) if len(gids) > 1 else UID_NONE,
        vmsize_kb=_kb(st.get("VmSize")), vmrss_kb=_kb(st.get("VmRSS")), vmswap_kb=_kb(st.get("VmSwap")),
        pfmajor=majflt, pfminor=minflt, vtid=int(nspid[-1]) if nspid else tid,
        vpid=int(nstgid[-1]) if nstgid else pid, tty=tty,
        cap_inheritable=int(st.get("CapInh", "0"), 16), cap_permitted=int(st.get("CapPrm", "0"), 16),
        cap_effective=int(st.get("CapEff", "0"), 16),
    )
    if main is not None:
        for name in ("exe", "exepath", "args", "cwd", "fdlimit", "env", "cgroups", "root", "loginuid",
                     "exe_writable", "exe_from_memfd", "exe_ino", "exe_ino_ctime", "exe_ino_mtime"):
            setattr(rec, name, getattr(main, name))
        return rec
    base = f"/proc/{pid}"
    try:
        argv = _items(_read(f"{base}/cmdline"))
        rec.env = _items(_read(f"{base}/environ"))
        rec.cgroups = _cgroups(pid)
        rec.loginuid = int(_read(f"{base}/loginuid") or b"-1") & 0xFFFFFFFF
        for line in _read(f"{base}/limits").decode().splitlines():
            if line.startswith("Max open files"):
                soft = line.split()[3]
                rec.fdlimit = int(soft) if soft.isdigit() else (1 << 64) - 1
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        argv = []
    rec.exe = argv[0] if argv else comm
    rec.args = argv[1:]
    rec.exepath = _readlink(f"{base}/exe")
    rec.cwd = _readlink(f"{base}/cwd")
    rec.root = _readlink(f"{base}/root")
    rec.exe_from_memfd = rec.exepath.startswith("/memfd:")
    try:
        est = os.stat(f"{base}/exe")
        rec.exe_ino, rec.exe_ino_ctime, rec.exe_ino_mtime = est.st_ino, est.st_ctime_ns, est.st_mtime_ns
        rec.exe_writable = rec.uid == 0 or bool(est.st_mode & 0o002) or (
            est.st_uid == rec.uid and bool(est.st_mode & 0o200))
    except OSError:
        pass
    return rec


def _pids() -> Iterator[int]:
    for n in os.listdir(PROC):
        if n.isdigit():
            yield int(n)


def scan_processes(exclude_pid: int | None = None, with_fds: bool = True) -> tuple[list[ProcRecord], list[FdRecord]]:
    procs: list[ProcRecord] = []
    fds: list[FdRecord] = []
    sockets = SocketTables()
    for pid in _pids():
        if pid == exclude_pid:
            continue
        try:
            main = scan_thread(pid, pid, None)
            if main is None:
                continue
            threads = [main]
            try:
                tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if t.isdigit())
            except OSError:
                tids = []
            for tid in tids:
                if tid != pid:
                    rec = scan_thread(pid, tid, main)
                    if rec is not None:
                        threads.append(rec)
            pfds = scan_fds(pid, sockets) if with_fds else []
        except (OSError, ValueError, IndexError):
            continue  # vanished mid-scan, or /proc content we cannot parse: skip the process
        procs.extend(threads)
        fds.extend(pfds)
    return procs, fds


def scan(exclude_pid: int | None = None, with_fds: bool = True) -> InitialState:
    """The whole initial state of this machine."""
    users, groups = scan_users()
    procs, fds = scan_processes(exclude_pid, with_fds)
    return InitialState(machine=scan_machine(), procs=procs, fds=fds, users=users, groups=groups,
                        interfaces=scan_interfaces())
