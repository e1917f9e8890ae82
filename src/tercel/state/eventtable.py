"""The PPME event table: names, directions, categories, flags and parameter layouts of every code.

Built once at import from the generated ``eventtable_data`` (2022 table of sysdig 0.29 + what the
newest libs appended). Codes the table does not know get a generic entry (``name`` ``"NA"``, no
parameter descriptions): their parameters still decode, as raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tercel.state import eventtable_data as _data

# ppm_param_type
PT_NONE = 0
PT_INT8 = 1
PT_INT16 = 2
PT_INT32 = 3
PT_INT64 = 4
PT_UINT8 = 5
PT_UINT16 = 6
PT_UINT32 = 7
PT_UINT64 = 8
PT_CHARBUF = 9
PT_BYTEBUF = 10
PT_ERRNO = 11
PT_SOCKADDR = 12
PT_SOCKTUPLE = 13
PT_FD = 14
PT_PID = 15
PT_FDLIST = 16
PT_FSPATH = 17
PT_SYSCALLID = 18
PT_SIGTYPE = 19
PT_RELTIME = 20
PT_ABSTIME = 21
PT_PORT = 22
PT_L4PROTO = 23
PT_SOCKFAMILY = 24
PT_BOOL = 25
PT_IPV4ADDR = 26
PT_DYN = 27
PT_FLAGS8 = 28
PT_FLAGS16 = 29
PT_FLAGS32 = 30
PT_UID = 31
PT_GID = 32
PT_DOUBLE = 33
PT_SIGSET = 34
PT_CHARBUFARRAY = 35
PT_CHARBUF_PAIR_ARRAY = 36
PT_IPV4NET = 37
PT_IPV6ADDR = 38
PT_IPV6NET = 39
PT_IPADDR = 40
PT_IPNET = 41
PT_MODE = 42
PT_FSRELPATH = 43
PT_ENUMFLAGS8 = 44
PT_ENUMFLAGS16 = 45
PT_ENUMFLAGS32 = 46
PT_FD32 = 47
PT_PID32 = 48

FLAG_TYPES = frozenset({PT_FLAGS8, PT_FLAGS16, PT_FLAGS32, PT_MODE})
ENUM_TYPES = frozenset({PT_ENUMFLAGS8, PT_ENUMFLAGS16, PT_ENUMFLAGS32})

# ppm_print_format
PF_NA = 0
PF_DEC = 1
PF_HEX = 2
PF_10_PADDED_DEC = 3
PF_ID = 4
PF_DIR = 5
PF_OCT = 6

# ppm_event_flags
EF_NONE = 0
EF_CREATES_FD = 1 << 0
EF_DESTROYS_FD = 1 << 1
EF_USES_FD = 1 << 2
EF_READS_FROM_FD = 1 << 3
EF_WRITES_TO_FD = 1 << 4
EF_MODIFIES_STATE = 1 << 5
EF_UNUSED = 1 << 6
EF_WAITS = 1 << 7
EF_SKIPPARSERESET = 1 << 8
EF_OLD_VERSION = 1 << 9
EF_DROP_SIMPLE_CONS = 1 << 10
EF_LARGE_PAYLOAD = 1 << 11
EF_CONVERTER_MANAGED = 1 << 12

# ppm_event_category (2022 numbering)
EC_UNKNOWN = 0
EC_OTHER = 1
EC_FILE = 2
EC_NET = 3
EC_IPC = 4
EC_MEMORY = 5
EC_PROCESS = 6
EC_SLEEP = 7
EC_SYSTEM = 8
EC_SIGNAL = 9
EC_USER = 10
EC_TIME = 11
EC_PROCESSING = 12
EC_IO_READ = 32
EC_IO_WRITE = 33
EC_IO_OTHER = 34
EC_WAIT = 64
EC_SCHEDULER = 128
EC_INTERNAL = 256

# What ``evt.category`` prints for each category.
CATEGORY_NAMES = {
    EC_UNKNOWN: "unknown", EC_OTHER: "other", EC_FILE: "file", EC_NET: "net", EC_IPC: "IPC",
    EC_MEMORY: "memory", EC_PROCESS: "process", EC_SLEEP: "sleep", EC_SYSTEM: "system",
    EC_SIGNAL: "signal", EC_USER: "user", EC_TIME: "time", EC_PROCESSING: "processing",
    EC_IO_READ: "I/O", EC_IO_WRITE: "I/O", EC_IO_OTHER: "I/O", EC_WAIT: "wait",
    EC_SCHEDULER: "scheduler", EC_INTERNAL: "internal",
}

PPM_EVENT_MAX = _data.PPM_EVENT_MAX
PPM_EVENT_MAX_2022 = _data.PPM_EVENT_MAX_2022

# Well-known codes the state layer dispatches on (2022 numbering unless marked newest).
GENERIC_E = 0
GENERIC_X = 1
PROCEXIT_1_E = 186
PROCINFO_E = 234
CONTAINER_JSON_E = 272
CONTAINER_JSON_2_E = 324
PLUGINEVENT_E = 322
ASYNCEVENT_E = 402  # newest
USER_ADDED_E = 354  # newest
GROUP_ADDED_E = 358  # newest


@dataclass(slots=True, frozen=True)
class ParamInfo:
    name: str
    type: int  # PT_*
    fmt: int  # PF_*
    info: str | int | None = None  # flag/dyn table name, or dirfd param index for FSRELPATH
    aliases: tuple[str, ...] = ()  # other names of this parameter in other generations

    @property
    def flag_table(self) -> tuple[tuple[str, int], ...] | None:
        if isinstance(self.info, str):
            return _data.FLAG_TABLES.get(self.info)
        return None

    @property
    def dyn_types(self) -> tuple[tuple[int, int], ...] | None:
        if self.type == PT_DYN and isinstance(self.info, str):
            return _data.DYN_TABLES.get(self.info)
        return None


@dataclass(slots=True, frozen=True)
class EventInfo:
    code: int
    name: str
    category: int
    flags: int
    params: tuple[ParamInfo, ...]
    nparams_2022: int  # parameter count of this code in the 2022 table (-1: code did not exist)
    known: bool = True  # False for codes the table does not describe
    is_exit: bool = field(init=False)
    direction: str = field(init=False)  # ">" enter, "<" exit, as sysdig prints evt.dir
    large_payload: bool = field(init=False)
    old_version: bool = field(init=False)
    unused: bool = field(init=False)
    # a syscall's enter or exit event (not a meta/tracepoint/internal event); set once the table exists
    is_syscall: bool = field(init=False, default=False)
    index_by_name: dict[str, int] = field(init=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "is_exit", bool(self.code & 1))
        set_(self, "direction", "<" if self.code & 1 else ">")
        set_(self, "large_payload", bool(self.flags & EF_LARGE_PAYLOAD))
        set_(self, "old_version", bool(self.flags & EF_OLD_VERSION))
        set_(self, "unused", bool(self.flags & EF_UNUSED))
        idx: dict[str, int] = {}
        for i, p in enumerate(self.params):
            idx.setdefault(p.name, i)
            for alias in p.aliases:
                idx.setdefault(alias, i)
        set_(self, "index_by_name", idx)

    @property
    def category_name(self) -> str:
        return CATEGORY_NAMES.get(self.category, "unknown")

    @property
    def is_meta(self) -> bool:
        """An enter-only event (its exit slot is unused): procexit, container, signaldeliver, ..."""
        if self.code & 1 or self.unused or not self.known:
            return False
        partner = _TABLE[self.code + 1] if self.code + 1 < len(_TABLE) else None
        return partner is None or partner.unused or not partner.known


def _build() -> tuple[EventInfo, ...]:
    out = []
    for code, entry in enumerate(_data.EVENTS):
        if entry is None:
            out.append(_unknown(code))
            continue
        name, cat, flags, params, n2022 = entry
        out.append(EventInfo(code, name, cat, flags,
                             tuple(ParamInfo(pn, pt, pf, pi, al) for (pn, pt, pf, pi, al) in params), n2022))
    return tuple(out)


def _unknown(code: int) -> EventInfo:
    return EventInfo(code, "NA", EC_UNKNOWN, EF_NONE, (), -1, known=False)


_TABLE: tuple[EventInfo, ...] = _build()
_NOT_SYSCALLS = frozenset({"tracer", "drop"})


def _mark_syscalls() -> None:
    for e in _TABLE:
        if not e.known or e.unused or e.is_meta or e.name in _NOT_SYSCALLS:
            continue
        pair = _TABLE[e.code ^ 1] if (e.code ^ 1) < len(_TABLE) else None
        if pair is None or not pair.known or pair.unused:
            continue
        if e.category not in (EC_INTERNAL, EC_SCHEDULER):
            object.__setattr__(e, "is_syscall", True)


_mark_syscalls()
_UNKNOWN_CACHE: dict[int, EventInfo] = {}


def info(code: int) -> EventInfo:
    """The table entry of a PPME code; a generic entry (no parameter descriptions) if unknown."""
    if 0 <= code < PPM_EVENT_MAX:
        return _TABLE[code]
    found = _UNKNOWN_CACHE.get(code)
    if found is None:
        found = _UNKNOWN_CACHE[code] = _unknown(code)
    return found


TABLE = _TABLE  # indexable by code for hot paths: TABLE[code] when 0 <= code < PPM_EVENT_MAX

# Syscall names by PPM_SC id (the ID parameter of GENERIC events).
SYSCALL_NAMES: tuple[str, ...] = _data.SYSCALL_NAMES


def syscall_name(sc_id: int) -> str:
    if 0 < sc_id < len(SYSCALL_NAMES) and SYSCALL_NAMES[sc_id]:
        return SYSCALL_NAMES[sc_id]
    return "<unknown>"


def _is_placeholder(name: str) -> bool:
    return name.startswith("NA") and name[2:].isdigit() or name == "NA"


EVENT_NAMES: frozenset[str] = frozenset(e.name for e in _TABLE if e.known and not _is_placeholder(e.name))
SYSCALL_NAME_SET: frozenset[str] = frozenset(n for n in SYSCALL_NAMES[1:] if n)
# Every name ``evt.type`` can take: event names plus the syscall names GENERIC events carry.
ALL_TYPE_NAMES: frozenset[str] = EVENT_NAMES | SYSCALL_NAME_SET


def _index_by_name() -> dict[str, tuple[int, ...]]:
    acc: dict[str, list[int]] = {}
    for e in _TABLE:
        if not e.known or _is_placeholder(e.name) or e.unused:
            continue
        if e.is_exit or e.is_meta:
            acc.setdefault(e.name, []).append(e.code)
    return {k: tuple(v) for k, v in acc.items()}


_CODES_BY_NAME = _index_by_name()


def codes_for_name(name: str) -> tuple[int, ...]:
    """PPME codes whose events show ``evt.type == name``: exit codes (every generation) and meta codes.

    A syscall that had no dedicated event in the 2022 table travels as a GENERIC event in captures of
    that era (and from drivers that lack its event), so its name also maps to GENERIC_X (1); events of
    that code still need an ``evt.type`` comparison, since GENERIC_X carries every such syscall.
    """
    codes = _CODES_BY_NAME.get(name, ())
    if name in SYSCALL_NAME_SET and not any(c < PPM_EVENT_MAX_2022 for c in codes):
        codes = (*codes, GENERIC_X)
    return codes


def flag_table(table_name: str) -> tuple[tuple[str, int], ...] | None:
    return _data.FLAG_TABLES.get(table_name)
