"""Initial-state records: what a capture source knows before its first event.

The ``.scap`` reader fills these from the file's MI/IL/UL/PL/FDL blocks, the live source from a
``/proc`` scan, and the ``.scap`` writer writes them back. They are plain data (no behaviour) so that
the state layer can build its tables from either source the same way.

Conventions:
- strings are ``str`` decoded as utf-8 with ``surrogateescape`` (so they re-encode to the same bytes);
- IP addresses are raw network-order ``bytes`` (4 or 16 long); ports are plain ints (host order);
- integers keep their on-disk width and signedness (``uid``/``gid``/``loginuid`` are u32,
  ``0xFFFFFFFF`` means "none"; ``vtid``/``vpid``/``pgid`` are signed, -1 means "unknown").
"""

from __future__ import annotations

from dataclasses import dataclass, field

# scap fd types (the FDL entry ``type`` byte; section 1.7 of the scap reference).
FD_UNKNOWN = 0
FD_FILE = 1
FD_DIRECTORY = 2
FD_IPV4_SOCK = 3
FD_IPV6_SOCK = 4
FD_IPV4_SERVSOCK = 5
FD_IPV6_SERVSOCK = 6
FD_FIFO = 7
FD_UNIX_SOCK = 8
FD_EVENT = 9
FD_UNSUPPORTED = 10
FD_SIGNALFD = 11
FD_EVENTPOLL = 12
FD_INOTIFY = 13
FD_TIMERFD = 14
FD_NETLINK = 15
FD_FILE_V2 = 16
FD_BPF = 17
FD_USERFAULTFD = 18
FD_IOURING = 19
FD_MEMFD = 20
FD_PIDFD = 21

FD_TYPE_NAMES: dict[int, str] = {
    FD_UNKNOWN: "UNKNOWN",
    FD_FILE: "FILE",
    FD_DIRECTORY: "DIRECTORY",
    FD_IPV4_SOCK: "IPV4_SOCK",
    FD_IPV6_SOCK: "IPV6_SOCK",
    FD_IPV4_SERVSOCK: "IPV4_SERVSOCK",
    FD_IPV6_SERVSOCK: "IPV6_SERVSOCK",
    FD_FIFO: "FIFO",
    FD_UNIX_SOCK: "UNIX_SOCK",
    FD_EVENT: "EVENT",
    FD_UNSUPPORTED: "UNSUPPORTED",
    FD_SIGNALFD: "SIGNALFD",
    FD_EVENTPOLL: "EVENTPOLL",
    FD_INOTIFY: "INOTIFY",
    FD_TIMERFD: "TIMERFD",
    FD_NETLINK: "NETLINK",
    FD_FILE_V2: "FILE_V2",
    FD_BPF: "BPF",
    FD_USERFAULTFD: "USERFAULTFD",
    FD_IOURING: "IOURING",
    FD_MEMFD: "MEMFD",
    FD_PIDFD: "PIDFD",
}

# FDL types whose payload is just a name (Lstr).
FD_NAME_ONLY_TYPES = frozenset(
    {FD_FILE, FD_DIRECTORY, FD_FIFO, FD_EVENT, FD_UNSUPPORTED, FD_SIGNALFD, FD_EVENTPOLL, FD_INOTIFY,
     FD_TIMERFD, FD_NETLINK, FD_BPF, FD_USERFAULTFD, FD_IOURING, FD_MEMFD, FD_PIDFD}
)

# l4proto values of socket fds.
L4_UNKNOWN = 0
L4_NA = 1
L4_TCP = 2
L4_UDP = 3
L4_ICMP = 4
L4_RAW = 5

UID_NONE = 0xFFFFFFFF


@dataclass(slots=True)
class ProcRecord:
    """One thread of the initial process list (all fields of PL V1..V9)."""

    tid: int
    pid: int
    ptid: int  # parent *process* id, even for secondary threads
    comm: str = ""
    exe: str = ""  # argv[0]
    exepath: str = ""  # resolved /proc/pid/exe
    args: list[str] = field(default_factory=list)  # argv[1..]
    cwd: str = ""
    sid: int = 0
    vpgid: int = 0
    fdlimit: int = 0
    flags: int = 0  # PPM_CL_* bits (0x2001 = CLONE_THREAD|CLONE_FILES on secondary threads)
    uid: int = UID_NONE
    gid: int = UID_NONE
    vmsize_kb: int = 0
    vmrss_kb: int = 0
    vmswap_kb: int = 0
    pfmajor: int = 0
    pfminor: int = 0
    env: list[str] = field(default_factory=list)  # "K=V" items
    vtid: int = -1
    vpid: int = -1
    cgroups: list[tuple[str, str]] = field(default_factory=list)  # (controller, path)
    root: str = ""
    loginuid: int = UID_NONE
    exe_writable: bool = False
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    tty: int = 0
    pidns_init_start_ts: int = 0
    exe_upper_layer: bool = False
    exe_lower_layer: bool = False
    exe_from_memfd: bool = False
    exe_ino: int = 0
    exe_ino_ctime: int = 0
    exe_ino_mtime: int = 0
    pgid: int = -1


@dataclass(slots=True)
class FdRecord:
    """One open fd of a thread at capture start (an FDL entry).

    Which payload fields are meaningful depends on ``type``:
    - name types (FILE, DIRECTORY, FIFO, EVENT, ..., FILE_V2): ``name`` (+ ``open_flags``, ``dev`` for FILE_V2);
    - IPV4_SOCK/IPV6_SOCK: ``sip``, ``sport``, ``dip``, ``dport``, ``l4proto`` (client -> server);
    - IPV4_SERVSOCK/IPV6_SERVSOCK: the listening address in ``sip``/``sport``, ``l4proto``;
    - UNIX_SOCK: ``unix_source``, ``unix_dest`` (kernel socket addresses) and ``name`` (the path).
    """

    tid: int
    fd: int
    type: int  # FD_* code above
    ino: int = 0
    name: str = ""
    open_flags: int = 0  # PPM_O_* bits (FILE_V2)
    dev: int = 0
    sip: bytes = b""
    dip: bytes = b""
    sport: int = 0
    dport: int = 0
    l4proto: int = L4_UNKNOWN
    unix_source: int = 0
    unix_dest: int = 0


@dataclass(slots=True)
class UserRecord:
    uid: int
    gid: int
    name: str
    homedir: str = ""
    shell: str = ""


@dataclass(slots=True)
class GroupRecord:
    gid: int
    name: str


IF_IPV4 = 1
IF_IPV6 = 2
IF_IPV4_NOLINKSPEED = 3
IF_IPV6_NOLINKSPEED = 4


@dataclass(slots=True)
class InterfaceRecord:
    """A network interface address (IL entry). ``type`` is IF_IPV4 or IF_IPV6 (no-linkspeed variants normalised)."""

    type: int
    name: str
    addr: bytes  # network order, 4 or 16 bytes
    netmask: bytes
    bcast: bytes
    linkspeed: int = 0

    @property
    def is_ipv6(self) -> bool:
        return self.type in (IF_IPV6, IF_IPV6_NOLINKSPEED)


@dataclass(slots=True)
class MachineInfo:
    num_cpus: int = 0
    memory_size_bytes: int = 0
    max_pid: int = 0
    hostname: str = ""
    boot_ts_epoch: int = 0  # ns since epoch (newest libs; "reserved1" in 2022, usually 0)
    flags: int = 0
    reserved3: int = 0
    reserved4: int = 0


@dataclass(slots=True)
class InitialState:
    """Everything a source knows before its first event."""

    machine: MachineInfo | None = None
    procs: list[ProcRecord] = field(default_factory=list)
    fds: list[FdRecord] = field(default_factory=list)
    users: list[UserRecord] = field(default_factory=list)
    groups: list[GroupRecord] = field(default_factory=list)
    interfaces: list[InterfaceRecord] = field(default_factory=list)
