"""File descriptors: one ``FdInfo`` per open fd, ``FdTable`` per process (shared by its threads)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from tercel.capture import records as R

# fd.type / fd.typechar per scap fd type (libsinsp's get_typestring / CHAR_FD_*).
TYPE_STRING: dict[int, str] = {
    R.FD_FILE: "file", R.FD_FILE_V2: "file", R.FD_DIRECTORY: "directory",
    R.FD_IPV4_SOCK: "ipv4", R.FD_IPV4_SERVSOCK: "ipv4", R.FD_IPV6_SOCK: "ipv6",
    R.FD_IPV6_SERVSOCK: "ipv6", R.FD_UNIX_SOCK: "unix", R.FD_FIFO: "pipe", R.FD_EVENT: "event",
    R.FD_SIGNALFD: "signalfd", R.FD_EVENTPOLL: "eventpoll", R.FD_INOTIFY: "inotify",
    R.FD_TIMERFD: "timerfd", R.FD_NETLINK: "netlink", R.FD_BPF: "bpf",
    R.FD_USERFAULTFD: "userfaultfd", R.FD_IOURING: "io_uring", R.FD_MEMFD: "memfd",
    R.FD_PIDFD: "pidfd",
}
TYPE_CHAR: dict[int, str] = {
    R.FD_FILE: "f", R.FD_FILE_V2: "f", R.FD_DIRECTORY: "d", R.FD_IPV4_SOCK: "4",
    R.FD_IPV4_SERVSOCK: "4", R.FD_IPV6_SOCK: "6", R.FD_IPV6_SERVSOCK: "6", R.FD_UNIX_SOCK: "u",
    R.FD_FIFO: "p", R.FD_EVENT: "e", R.FD_UNSUPPORTED: "X", R.FD_SIGNALFD: "s",
    R.FD_EVENTPOLL: "l", R.FD_INOTIFY: "i", R.FD_TIMERFD: "t", R.FD_NETLINK: "n", R.FD_BPF: "b",
    R.FD_USERFAULTFD: "u", R.FD_IOURING: "r", R.FD_MEMFD: "m", R.FD_PIDFD: "P",
}
L4_NAMES = {R.L4_TCP: "tcp", R.L4_UDP: "udp", R.L4_ICMP: "icmp", R.L4_RAW: "raw"}

IPV4_TYPES = frozenset({R.FD_IPV4_SOCK, R.FD_IPV4_SERVSOCK})
IPV6_TYPES = frozenset({R.FD_IPV6_SOCK, R.FD_IPV6_SERVSOCK})
IP_TYPES = IPV4_TYPES | IPV6_TYPES
SOCK_TYPES = IP_TYPES | {R.FD_UNIX_SOCK}
SERVSOCK_TYPES = frozenset({R.FD_IPV4_SERVSOCK, R.FD_IPV6_SERVSOCK})
FILE_TYPES = frozenset({R.FD_FILE, R.FD_FILE_V2, R.FD_DIRECTORY})

# PPM_O_* open flag bits (FdInfo.openflags, the flags parameter of open events)
PPM_O_RDONLY = 1 << 0
PPM_O_WRONLY = 1 << 1
PPM_O_CREAT = 1 << 2
PPM_O_TRUNC = 1 << 8
PPM_O_DIRECTORY = 1 << 10
PPM_O_CLOEXEC = 1 << 12
PPM_O_TMPFILE = 1 << 13
PPM_O_F_CREATED = 1 << 14  # set by the driver when the open created the file

ROLE_NONE = 0
ROLE_CLIENT = 1
ROLE_SERVER = 2

MAX_FDS_PER_PROCESS = 65536  # hostile input cannot grow one table beyond this


def ip_text(raw: bytes) -> str:
    """Canonical text of a raw network-order address (4 or 16 bytes); v4-mapped v6 as v4."""
    if len(raw) == 4:
        return f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}"
    if len(raw) == 16:
        if raw[:12] == b"\0" * 10 + b"\xff\xff":
            return ip_text(raw[12:])
        return str(ipaddress.IPv6Address(raw))
    return ""


def tuple_name(sip: bytes, sport: int, dip: bytes, dport: int) -> str:
    """libsinsp's socket fd name: ``sip:sport->dip:dport``."""
    return f"{ip_text(sip)}:{sport}->{ip_text(dip)}:{dport}"


@dataclass(slots=True)
class FdInfo:
    type: int = R.FD_UNKNOWN
    name: str = ""
    nameraw: str = ""  # the path as given to the syscall (files only)
    openflags: int = 0  # PPM_O_* bits
    ino: int = 0
    dev: int = 0
    # sockets: sip/sport is the client end, dip/dport the server end (listening sockets use sip/sport)
    sip: bytes = b""
    sport: int = 0
    dip: bytes = b""
    dport: int = 0
    l4proto: int = R.L4_UNKNOWN
    unix_source: int = 0
    unix_dest: int = 0
    role: int = ROLE_NONE
    cloexec: bool = False
    connected: bool = False  # connect()ed or accept()ed (a UDP socket that only sent is not)

    @property
    def typestring(self) -> str:
        return TYPE_STRING.get(self.type, "<NA>")

    @property
    def typechar(self) -> str:
        return TYPE_CHAR.get(self.type, "o")

    def copy(self) -> FdInfo:
        return FdInfo(self.type, self.name, self.nameraw, self.openflags, self.ino, self.dev,
                      self.sip, self.sport, self.dip, self.dport, self.l4proto, self.unix_source,
                      self.unix_dest, self.role, self.cloexec, self.connected)

    @classmethod
    def from_record(cls, rec: R.FdRecord) -> FdInfo:
        fi = cls(type=rec.type, ino=rec.ino, dev=rec.dev, openflags=rec.open_flags,
                 l4proto=rec.l4proto)
        fi.cloexec = bool(rec.open_flags & PPM_O_CLOEXEC)
        t = rec.type
        if t in (R.FD_IPV4_SOCK, R.FD_IPV6_SOCK):
            fi.sip, fi.sport, fi.dip, fi.dport = rec.sip, rec.sport, rec.dip, rec.dport
            fi.name = tuple_name(rec.sip, rec.sport, rec.dip, rec.dport)
            fi.connected = True
        elif t in SERVSOCK_TYPES:
            fi.sip, fi.sport = rec.sip, rec.sport
            fi.name = f"{ip_text(rec.sip)}:{rec.sport}"
            fi.role = ROLE_SERVER
        elif t == R.FD_UNIX_SOCK:
            fi.unix_source, fi.unix_dest = rec.unix_source, rec.unix_dest
            fi.name = rec.name
        else:
            fi.name = rec.name
            if t == R.FD_FILE_V2:
                fi.type = R.FD_FILE
        if t in FILE_TYPES:
            fi.nameraw = fi.name
        return fi


# fds alive in every table of this process: tables count what they hold, and give it back when
# they are dropped (__del__), so a hostile stream of processes and opens stays bounded overall
_LIVE = [0]
MAX_TOTAL_FDS = 4_000_000


def live_fds() -> int:
    return _LIVE[0]


class FdTable:
    """The fds of one process. Threads created with CLONE_FILES share the same object."""

    __slots__ = ("fds",)

    def __init__(self) -> None:
        self.fds: dict[int, FdInfo] = {}

    def get(self, fd: int) -> FdInfo | None:
        return self.fds.get(fd)

    def add(self, fd: int, info: FdInfo) -> FdInfo:
        fds = self.fds
        if fd not in fds:
            if len(fds) >= MAX_FDS_PER_PROCESS or (_LIVE[0] >= MAX_TOTAL_FDS and fds):
                fds.pop(next(iter(fds)))  # bounded: forget this table's oldest entry
            elif _LIVE[0] >= MAX_TOTAL_FDS:
                return info  # every table is full: the new fd goes untracked
            else:
                _LIVE[0] += 1
        fds[fd] = info
        return info

    def remove(self, fd: int) -> None:
        if self.fds.pop(fd, None) is not None:
            _LIVE[0] -= 1

    def copy(self) -> FdTable:
        new = FdTable()
        new.fds = {fd: fi.copy() for fd, fi in self.fds.items()}
        _LIVE[0] += len(new.fds)
        return new

    def close_on_exec(self) -> None:
        for fd in [fd for fd, fi in self.fds.items() if fi.cloexec]:
            del self.fds[fd]
            _LIVE[0] -= 1

    def __len__(self) -> int:
        return len(self.fds)

    def __del__(self) -> None:
        _LIVE[0] -= len(self.fds)
