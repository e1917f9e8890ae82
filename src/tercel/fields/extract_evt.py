"""Extraction of evt.* and syscall.type fields."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from tercel.capture import records as R
from tercel.fields import catalog  # noqa: F401  (declarations first: this module attaches to them)
from tercel.fields.registry import Extractor, fixed, implement
from tercel.state import eventtable as et
from tercel.state import inspector as I
from tercel.state import params as P
from tercel.state import render
from tercel.state.context import STATE_CONTEXT
from tercel.state.event import Event
from tercel.state.fdinfo import PPM_O_CREAT, PPM_O_F_CREATED, PPM_O_RDONLY, PPM_O_TMPFILE, PPM_O_WRONLY
from tercel.state.parsers import enter_of

_OPEN_NAMES = frozenset({"open", "openat", "openat2", "open_by_handle_at"})
_META_ASYNC = frozenset({"container", "asyncevent", "user_added", "user_deleted", "group_added",
                         "group_deleted", "notification", "infra", "k8s", "mesos"})


def _time(ts: int, date: bool, ns: bool) -> str:
    s = time.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S", time.localtime(ts // 1_000_000_000))
    return f"{s}.{ts % 1_000_000_000:09d}" if ns else s


def iso8601(ts: int) -> str:
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts // 1_000_000_000))
    return f"{s}.{ts % 1_000_000_000:09d}+0000"


def _reltime(evt: Any) -> int:
    insp = I.current()
    return evt.ts - insp.first_ts if insp is not None and insp.first_ts else 0


_FLAGS_IDX: dict[int, int] = {}  # type code -> index of "flags" (-1: not in it), open exits only
_NOT_OPEN = -2


def _flags_idx(evt: Any) -> int:
    if not evt.is_exit or evt.name not in _OPEN_NAMES:
        i = _NOT_OPEN
    else:
        i = P.index(evt).get("flags", -1)
    # kept per type code for the event table's own entries (not GENERIC events, whose name
    # varies, nor events carrying a description of their own)
    t = evt.type
    if 0 <= t < et.PPM_EVENT_MAX and evt.info is et.TABLE[t] and evt.info.name == evt.name:
        _FLAGS_IDX[t] = i
    return i


def _open_flags(evt: Any) -> int | None:
    i = _FLAGS_IDX.get(evt.type)
    if i is None:
        i = _flags_idx(evt)
    if i == _NOT_OPEN:
        return None
    v = evt.param(i) if 0 <= i < evt.nparams else None
    if v is None:
        enter = enter_of(evt, evt.thread)
        v = P.get_int(enter, "flags") if enter is not None else None
    return v if v.__class__ is int else None


def _open_flag_is(bit: int) -> Callable[[Any], bool]:
    """evt.is_open_read/write: one function (most open rules start with these)."""
    def fn(evt: Any) -> bool:
        i = _FLAGS_IDX.get(evt.type)
        if i is None:
            i = _flags_idx(evt)
        if i == _NOT_OPEN:
            return False
        vals = evt._vals if evt.__class__ is Event else None
        if vals.__class__ is list:  # decoded already (every open the inspector parsed)
            v = vals[i] if 0 <= i < len(vals) else None
        else:
            v = evt.param(i) if 0 <= i < evt.nparams else None
        if v is None:
            v = _open_flags(evt)
        return v.__class__ is int and bool(v & bit)
    return fn


def _is_open_exec(evt: Any) -> bool:
    if not evt.is_exit or evt.name not in (*_OPEN_NAMES, "creat"):
        return False
    flags = _open_flags(evt) if evt.name != "creat" else PPM_O_CREAT
    mode = P.get_int(evt, "mode")
    if mode is None:
        enter = enter_of(evt, evt.thread)
        mode = P.get_int(enter, "mode") if enter is not None else None
    return bool(flags and flags & (PPM_O_CREAT | PPM_O_TMPFILE) and mode and mode & 0o111)


def _arg(arg: str | None) -> Extractor:
    key: str | int | None = arg
    if arg is not None and arg.isdigit():
        key = int(arg)

    def fn(evt: Any) -> Any:
        if key is None:
            return None
        return render.render_arg(evt, key, STATE_CONTEXT)
    return fn


def _rawarg(arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        if arg is None:
            return None
        if arg.isdigit():
            i = int(arg)
            return evt.param(i) if i < evt.nparams else None
        return P.get(evt, arg)
    return fn


def _type_is(arg: str | None) -> Extractor:
    return lambda evt: 1 if evt.name == arg else 0


def _flags(evt: Any) -> int:
    return evt.info.flags


def _buffer(evt: Any) -> Any:
    v = P.get(evt, "data")
    return bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else None


_IO_CATEGORIES = frozenset({et.EC_IO_READ, et.EC_IO_WRITE, et.EC_IO_OTHER})
_FD_CATEGORY = {
    R.FD_FILE: et.EC_FILE, R.FD_FILE_V2: et.EC_FILE, R.FD_DIRECTORY: et.EC_FILE,
    R.FD_IPV4_SOCK: et.EC_NET, R.FD_IPV6_SOCK: et.EC_NET, R.FD_IPV4_SERVSOCK: et.EC_NET,
    R.FD_IPV6_SERVSOCK: et.EC_NET, R.FD_UNIX_SOCK: et.EC_IPC, R.FD_FIFO: et.EC_IPC,
    R.FD_EVENT: et.EC_IPC, R.FD_SIGNALFD: et.EC_SIGNAL, R.FD_INOTIFY: et.EC_IPC,
    R.FD_EVENTPOLL: et.EC_WAIT, R.FD_TIMERFD: et.EC_TIME, R.FD_NETLINK: et.EC_NET,
}


def _category(evt: Any) -> str:
    """I/O events take the category of their fd (a read of a file is 'file')."""
    info = evt.info
    c = info.category
    if c in _IO_CATEGORIES:
        fi = evt.fdinfo
        if fi is None:
            return "unknown"
        fc = _FD_CATEGORY.get(fi.type, et.EC_OTHER)
        return "ipc" if fc == et.EC_IPC else et.CATEGORY_NAMES.get(fc, "other")
    return info.category_name


def rawres(evt: Any) -> int | None:
    """evt.rawres: an exit's first parameter (res, fd, or the address of brk/mmap), as int64."""
    if not evt.type & 1 or not evt.nparams or evt.type <= et.GENERIC_X:
        return None
    v = evt.param(0)
    if not isinstance(v, int):
        return None
    return v - (1 << 64) if v >= 1 << 63 else v


def _res(evt: Any) -> str | None:
    r = rawres(evt)
    if r is None:
        return None
    return (render.errno_name(r) or str(r)) if r < 0 else "SUCCESS"


def _buflen(evt: Any) -> int | None:
    if not evt.is_exit or evt.info.category not in _IO_CATEGORIES or evt.fdinfo is None:
        return None
    r = rawres(evt)
    return r if r is not None and r >= 0 else None


def _buflen_of(direction: int, fdcat: int | None) -> Callable[[Any], int | None]:
    """evt.buflen.in/out/file/net...: the buffer length restricted to a direction / fd kind."""
    def fn(evt: Any) -> int | None:
        n = _buflen(evt)
        if n is None:
            return None
        fl = _flags(evt)
        if direction and not fl & direction:
            return None
        if fdcat is not None and _FD_CATEGORY.get(evt.fdinfo.type) != fdcat:
            return None
        return n
    return fn


def _latency(evt: Any) -> int:
    if not evt.is_exit:
        return 0
    insp = I.current()
    enter = insp.cur_enter if insp is not None else None
    return evt.ts - enter.ts if enter is not None and enter.type == evt.type - 1 else 0


def _deltatime(evt: Any) -> int:
    insp = I.current()
    return evt.ts - insp.prev_ts if insp is not None and insp.prev_ts else 0


def _hostname(evt: Any) -> str:
    insp = I.current()
    if insp is not None and insp.hostname:
        return insp.hostname
    return socket.gethostname()


def _failed(evt: Any) -> bool:
    r = rawres(evt)
    return r is not None and r < 0


def _count_error(cat: int | None) -> Callable[[Any], int | None]:
    """1 for failed events (of a category); no value otherwise, as libsinsp."""
    def fn(evt: Any) -> int | None:
        if not _failed(evt):
            return None
        # file and net errors are classified by the event's fd (access() without one is "other")
        fi = evt.fdinfo
        c = evt.info.category
        if fi is not None:
            c = _FD_CATEGORY.get(fi.type, et.EC_OTHER)
        elif c != et.EC_MEMORY and (evt.fd is None or not _flags(evt) & et.EF_CREATES_FD):
            c = et.EC_OTHER  # e.g. access(), or fstat() on a bad fd
        if cat is None:
            return 1
        if cat == -1:  # other: not file, net or memory
            return 1 if c not in (et.EC_FILE, et.EC_NET, et.EC_MEMORY) else None
        return 1 if c == cat else None
    return fn


def _syscall_type(evt: Any) -> str | None:
    info = evt.info
    if not info.known or info.category in (et.EC_INTERNAL, et.EC_SCHEDULER):
        return None
    return evt.name


def _register() -> None:
    c = fixed
    implement("evt.num", c(lambda evt: evt.num))
    implement("evt.time", c(lambda evt: _time(evt.ts, False, True)))
    implement("evt.time.s", c(lambda evt: _time(evt.ts, False, False)))
    implement("evt.time.iso8601", c(lambda evt: iso8601(evt.ts)))
    implement("evt.datetime", c(lambda evt: _time(evt.ts, True, True)))
    implement("evt.datetime.s", c(lambda evt: _time(evt.ts, True, False)))
    implement("evt.outputtime", c(lambda evt: _time(evt.ts, False, True)))
    implement("evt.rawtime", c(lambda evt: evt.ts))
    implement("evt.rawtime.s", c(lambda evt: evt.ts // 1_000_000_000))
    implement("evt.rawtime.ns", c(lambda evt: evt.ts % 1_000_000_000))
    implement("evt.reltime", c(_reltime))
    implement("evt.reltime.s", c(lambda evt: _reltime(evt) // 1_000_000_000))
    implement("evt.reltime.ns", c(lambda evt: _reltime(evt) % 1_000_000_000))
    implement("evt.source", c(lambda evt: "syscall"))
    implement("evt.is_async", c(lambda evt: evt.name in _META_ASYNC))
    implement("evt.asynctype",
              c(lambda evt: (P.get_str(evt, "name") if evt.name == "asyncevent" else evt.name)
                if evt.name in _META_ASYNC else None))
    implement("evt.hostname", c(_hostname))

    implement("evt.latency", c(_latency))
    implement("evt.latency.s", c(lambda evt: _latency(evt) // 1_000_000_000))
    implement("evt.latency.ns", c(lambda evt: _latency(evt) % 1_000_000_000))
    implement("evt.latency.human", c(lambda evt: _human(_latency(evt))))
    implement("evt.wait_latency",
              c(lambda evt: _latency(evt) if evt.is_exit and _flags(evt) & et.EF_WAITS else None))
    implement("evt.count.procinfo",
              c(lambda evt: 1 if evt.type == et.PROCINFO_E and evt.thread is not None
                and evt.thread.is_main else None))
    implement("evt.count.threadinfo", c(lambda evt: 1 if evt.type == et.PROCINFO_E else None))
    rd, wr = et.EF_READS_FROM_FD, et.EF_WRITES_TO_FD
    for suffix, direction, fdcat in (("in", rd, None), ("out", wr, None), ("file", 0, et.EC_FILE),
                                     ("file.in", rd, et.EC_FILE), ("file.out", wr, et.EC_FILE),
                                     ("net", 0, et.EC_NET), ("net.in", rd, et.EC_NET),
                                     ("net.out", wr, et.EC_NET)):
        implement(f"evt.buflen.{suffix}", c(_buflen_of(direction, fdcat)))
    implement("evt.deltatime", c(_deltatime))
    implement("evt.deltatime.s", c(lambda evt: _deltatime(evt) // 1_000_000_000))
    implement("evt.deltatime.ns", c(lambda evt: _deltatime(evt) % 1_000_000_000))
    implement("evt.dir", c(lambda evt: evt.direction))
    implement("evt.type", c(lambda evt: evt.name))
    implement("evt.type.is", _type_is)
    implement("syscall.type", c(_syscall_type))
    implement("evt.category", c(_category))
    implement("evt.cpu", c(lambda evt: evt.cpu))
    # Current Falco ends evt.args without the trailing blank sysdig 0.29 printed.
    implement("evt.args", c(lambda evt: render.render_args(evt, STATE_CONTEXT, trailing_space=False)))
    implement("evt.info", c(lambda evt: render.render_args(evt, STATE_CONTEXT, trailing_space=False)))
    implement("evt.arg", _arg)
    implement("evt.rawarg", _rawarg)
    implement("evt.buffer", c(_buffer))
    implement("evt.buflen", c(_buflen))
    implement("evt.res", c(_res))
    implement("evt.rawres", c(rawres))
    implement("evt.failed", c(_failed))
    implement("evt.is_io", c(lambda evt: bool(_flags(evt) & (et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD))))
    implement("evt.is_io_read", c(lambda evt: bool(_flags(evt) & et.EF_READS_FROM_FD)))
    implement("evt.is_io_write", c(lambda evt: bool(_flags(evt) & et.EF_WRITES_TO_FD)))
    implement("evt.io_dir", c(lambda evt: "read" if _flags(evt) & et.EF_READS_FROM_FD
                              else "write" if _flags(evt) & et.EF_WRITES_TO_FD else None))
    implement("evt.is_wait", c(lambda evt: bool(_flags(evt) & et.EF_WAITS)))
    implement("evt.is_syslog", c(lambda evt: bool(
        _flags(evt) & et.EF_WRITES_TO_FD and evt.fdinfo is not None and evt.fdinfo.name == "/dev/log")))
    implement("evt.count", c(lambda evt: 1))
    implement("evt.count.error", c(_count_error(None)))
    implement("evt.count.error.file", c(_count_error(et.EC_FILE)))
    implement("evt.count.error.net", c(_count_error(et.EC_NET)))
    implement("evt.count.error.memory", c(_count_error(et.EC_MEMORY)))
    implement("evt.count.error.other", c(_count_error(-1)))
    implement("evt.count.exit", c(lambda evt: 1 if evt.is_exit else None))
    implement("evt.is_open_read", c(_open_flag_is(PPM_O_RDONLY)))
    implement("evt.is_open_write", c(_open_flag_is(PPM_O_WRONLY)))
    implement("evt.is_open_exec", c(_is_open_exec))
    implement("evt.is_open_create", c(lambda evt: bool((_open_flags(evt) or 0) & PPM_O_F_CREATED)))


def _human(ns: int) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.2f}s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.2f}ms"
    if ns >= 1_000:
        return f"{ns / 1e3:.2f}us"
    return f"{ns}ns"


_register()
