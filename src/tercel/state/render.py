"""sysdig/Falco text rendering of event parameters: ``evt.args``, ``evt.arg.X``, ``evt.res``.

A parameter renders as a value plus an optional *resolved* part: ``fd=3(<f>/etc/passwd)``,
``res=-2(ENOENT)``, ``flags=4097(O_RDONLY|O_CLOEXEC)``, ``tid=20072(cat)``. ``evt.args`` joins
``name=value`` or ``name=value(resolved)`` items, each followed by a space (as sysdig prints);
``evt.arg.X`` prints the resolved part when there is one, else the value.

Resolving fds, thread names and relative paths needs state; it comes through a ``RenderContext``
(the state layer provides one; ``NO_CONTEXT`` resolves nothing).
"""

from __future__ import annotations

import errno as _errno
from typing import TYPE_CHECKING, Any, Protocol

from tercel.state import eventtable as et
from tercel.state.params import AT_FDCWD

if TYPE_CHECKING:
    from tercel.state.event import Event


class RenderContext(Protocol):
    def fd_label(self, evt: Event, fd: int) -> str | None:
        """``<f>/etc/passwd``, ``<4t>1.2.3.4:5->6.7.8.9:10`` ... or None when the fd is unknown."""

    def fd_typechar(self, evt: Event, fd: int) -> str | None:
        """The fd's type character (``f``, ``4``, ``u``, ...) or None."""

    def comm_of(self, tid: int) -> str | None:
        """comm of a thread id, or None when unknown."""

    def resolve_path(self, evt: Event, path: str, dirfd: int | None) -> str | None:
        """Absolute form of a relative path of this event (cwd or dirfd based), or None."""

    # Optional (looked up with getattr): ``user_name(uid) -> str | None`` and
    # ``group_name(gid) -> str | None`` resolve UID/GID parameters as current libsinsp does
    # (``evt.arg.uid`` is the user's name, ``<NA>`` when the user table does not know it).


class _NoContext:
    def fd_label(self, evt: Event, fd: int) -> str | None:
        return None

    def fd_typechar(self, evt: Event, fd: int) -> str | None:
        return None

    def comm_of(self, tid: int) -> str | None:
        return None

    def resolve_path(self, evt: Event, path: str, dirfd: int | None) -> str | None:
        return None


NO_CONTEXT: RenderContext = _NoContext()

# --- errno and signal names -------------------------------------------------------------------
ERRNO_NAMES: dict[int, str] = dict(_errno.errorcode)
ERRNO_NAMES.update({11: "EAGAIN", 35: "EDEADLK", 95: "EOPNOTSUPP"})
ERRNO_NAMES.update({512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 515: "ENOIOCTLCMD",
                    516: "ERESTART_RESTARTBLOCK", 517: "EPROBE_DEFER", 518: "EOPENSTALE",
                    521: "EBADHANDLE", 522: "ENOTSYNC", 523: "EBADCOOKIE", 524: "ENOTSUPP",
                    525: "ETOOSMALL", 526: "ESERVERFAULT", 527: "EBADTYPE", 528: "EJUKEBOX",
                    529: "EIOCBQUEUED", 530: "EIOCBRETRY"})

SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
    8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM",
    15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
    21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM",
    27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}


def errno_name(value: int) -> str:
    """``ENOENT`` for -2 (or 2); "" when unknown."""
    return ERRNO_NAMES.get(-value if value < 0 else value, "")


def render_res(evt: Event) -> str | None:
    """``evt.res``: ``SUCCESS`` or the errno name for exit events that return a value, else None."""
    raw = rawres(evt)
    if raw is None:
        return None
    if raw < 0:
        return errno_name(raw) or str(raw)
    return "SUCCESS"


_RES_TYPES = frozenset({et.PT_ERRNO, et.PT_FD, et.PT_PID, et.PT_INT64, et.PT_UINT64})


def rawres(evt: Event) -> int | None:
    """``evt.rawres``: the return value of an exit event (its first parameter when that is an 8-byte
    ERRNO/FD/PID/INT64/UINT64, as for brk and mmap), else None."""
    if not evt.type & 1:
        return None
    params = evt.info.params
    if not params or params[0].type not in _RES_TYPES:
        return None
    v = evt.param(0)
    return v if isinstance(v, int) else None


# --- flags ------------------------------------------------------------------------------------

def render_flags(value: int, table: tuple[tuple[str, int], ...] | None) -> str:
    """Symbolic form of a flags value, as sinsp builds it (``O_RDONLY|O_CLOEXEC``); "" if none."""
    if not table:
        return ""
    names = []
    val = value
    for name, fv in table:
        if fv == value:
            names.append(name)
            break
        if fv != 0 and val != 0 and (val & fv) == fv:
            names.append(name)
            val &= ~fv
    return "|".join(names)


def render_enum(value: int, table: tuple[tuple[str, int], ...] | None) -> str:
    if not table:
        return ""
    for name, fv in table:
        if fv == value:
            return name
    return ""


# --- single parameters ------------------------------------------------------------------------

def _num(value: int, fmt: int) -> str:
    if fmt == et.PF_HEX:
        return "%X" % (value & 0xFFFFFFFFFFFFFFFF if value < 0 else value)
    if fmt == et.PF_OCT:
        return "0" if value == 0 else f"0{value:o}"
    if fmt == et.PF_10_PADDED_DEC:
        return f"{value:09d}"
    return str(value)


BYTEBUF_MAX = 80  # sysdig's default print length for buffers


def _printable(data: bytes) -> str:
    if len(data) > BYTEBUF_MAX:
        return _printable(data[:BYTEBUF_MAX - 3]) + "..."
    return data.decode("latin-1").translate(_DOTS)


_DOTS = {c: "." for c in (*range(32), *range(127, 256))}


def _fmt_sockaddr(v: tuple[Any, ...] | None) -> str:
    if v is None:
        return "NULL"
    fam = v[0]
    if fam == 2 and len(v) == 3:
        return f"{v[1]}:{v[2]}"
    if fam == 10 and len(v) == 3:
        return f"{v[1]}:{v[2]}"
    if fam == 1 and len(v) == 2:
        return _strip_invalid(v[1])
    return f"family {fam}"


def _fmt_socktuple(v: tuple[Any, ...] | None) -> str:
    if v is None:
        return "NULL"
    fam = v[0]
    if fam in (2, 10) and len(v) == 5:
        sip, sport, dip, dport = v[1], v[2], v[3], v[4]
        if fam == 10 and sip.startswith("::ffff:") and dip.startswith("::ffff:") and "." in sip + dip:
            sip, dip = sip[7:], dip[7:]
        return f"{sip}:{sport}->{dip}:{dport}"
    if fam == 1 and len(v) == 4:
        return f"{v[1]:x}->{v[2]:x} {_strip_invalid(v[3])}"
    return f"family {fam}"


def _strip_invalid(s: str) -> str:
    # sinsp drops control characters from names it prints
    return "".join(c for c in s if c >= " " or c == "\t") if any(c < " " for c in s) else s


def render_param(evt: Event, i: int, ctx: RenderContext = NO_CONTEXT) -> tuple[str, str] | None:
    """(value, resolved) strings of parameter i; None when the event does not carry it."""
    raw = evt.param_raw(i)
    if raw is None:
        return None
    params = evt.info.params
    if i >= len(params):
        return (_printable(raw), "")
    p = params[i]
    t = p.type
    v = evt.param(i)
    if t == et.PT_DYN:
        types = p.dyn_types
        if raw and types and raw[0] < len(types):
            t = types[raw[0]][0]
            sub = et.ParamInfo(p.name, t, types[raw[0]][1])
            return _render_typed(evt, sub, t, v, raw[1:], ctx)
        return (_printable(raw), "")
    return _render_typed(evt, p, t, v, raw, ctx)


def _render_typed(evt: Event, p: et.ParamInfo, t: int, v: Any, raw: bytes, ctx: RenderContext) -> tuple[str, str]:
    if v is None and t not in (et.PT_SOCKADDR, et.PT_SOCKTUPLE):
        return ("", "")
    if t == et.PT_FD or t == et.PT_FD32:
        if v == AT_FDCWD:
            return (str(v), "AT_FDCWD")
        if v < 0:
            return (str(v), errno_name(v))
        return (str(v), ctx.fd_label(evt, v) or "")
    if t == et.PT_ERRNO:
        s = _num(v, p.fmt) if v >= 0 else str(v)
        return (s, errno_name(v) if v < 0 else "")
    if t == et.PT_PID or t == et.PT_PID32:
        return (str(v), ctx.comm_of(v) or "")
    if t in et.FLAG_TYPES:
        return (_num(v, p.fmt) if t == et.PT_MODE else str(v), render_flags(v, p.flag_table))
    if t in et.ENUM_TYPES:
        return (str(v), render_enum(v, p.flag_table))
    if t == et.PT_UID or t == et.PT_GID:
        resolver = getattr(ctx, "user_name" if t == et.PT_UID else "group_name", None)
        return (str(v), (resolver(v) or "<NA>") if resolver is not None else "")
    if t in (et.PT_INT8, et.PT_INT16, et.PT_INT32, et.PT_INT64, et.PT_UINT8, et.PT_UINT16, et.PT_UINT32,
             et.PT_UINT64, et.PT_PORT, et.PT_L4PROTO, et.PT_SOCKFAMILY, et.PT_SIGSET, et.PT_ABSTIME, et.PT_BOOL):
        return (_num(v, p.fmt), "")
    if t == et.PT_CHARBUF:
        return (v, "")
    if t == et.PT_FSPATH or t == et.PT_FSRELPATH:
        s = _strip_invalid(v)
        dirfd = None
        if t == et.PT_FSRELPATH and isinstance(p.info, int):
            d = evt.param(p.info)
            dirfd = d if isinstance(d, int) else None
        resolved = ctx.resolve_path(evt, v, dirfd) if not v.startswith("/") else None
        return (s, resolved if resolved and resolved != s else "")
    if t == et.PT_BYTEBUF:
        return (_printable(v), "")
    if t == et.PT_SOCKADDR:
        return (_fmt_sockaddr(v), "")
    if t == et.PT_SOCKTUPLE:
        return (_fmt_socktuple(v), "")
    if t == et.PT_FDLIST:
        items = []
        for fd, fl in v:
            tc = ctx.fd_typechar(evt, fd) or "?"
            items.append(f"{fd}:{tc}{fl:x}")
        return (" ".join(items), "")
    if t == et.PT_SYSCALLID:
        return (str(v), et.syscall_name(v))
    if t == et.PT_SIGTYPE:
        return (str(v), SIGNAL_NAMES.get(v, ""))
    if t == et.PT_RELTIME:
        return (str(v), "%gs" % (v / 1e9))
    if t in (et.PT_IPV4ADDR, et.PT_IPV6ADDR):
        return (str(v), "")
    if t == et.PT_DOUBLE:
        return (f"{v:f}", "")
    return (_printable(raw), "")


def render_arg(evt: Event, name_or_index: str | int, ctx: RenderContext = NO_CONTEXT) -> str | None:
    """``evt.arg.NAME`` / ``evt.arg[N]``: the resolved form when there is one, else the value."""
    if isinstance(name_or_index, int):
        i: int | None = name_or_index
    else:
        i = evt.param_index(name_or_index)
    if i is None:
        return None
    r = render_param(evt, i, ctx)
    if r is None:
        return None
    return r[1] or r[0]


def render_args(evt: Event, ctx: RenderContext = NO_CONTEXT, max_params: int | None = None,
                trailing_space: bool = True) -> str:
    """``evt.args``: ``name=value(resolved)`` for each parameter the event carries.

    sysdig 0.29 ends every item with a space; Falco 0.44 joins them with single spaces
    (``trailing_space=False``). ``max_params`` caps the parameters shown (sysdig 0.29 shows at most
    its table's count: ``evt.info.nparams_2022``)."""
    if evt.type <= et.GENERIC_X:
        return ""  # sysdig shows no arguments for generic syscall events
    out = []
    params = evt.info.params
    n = min(evt.nparams, len(params))
    if max_params is not None and max_params >= 0:
        n = min(n, max_params)
    for i in range(n):
        r = render_param(evt, i, ctx)
        if r is None:
            continue
        val, res = r
        out.append(f"{params[i].name}={val}({res})" if res else f"{params[i].name}={val}")
    if not out:
        return ""
    return " ".join(out) + " " if trailing_space else " ".join(out)
