"""The Inspector: turns raw events into ``Event`` objects carrying the state they need.

    insp = Inspector(initial_state)                  # records from the capture or a /proc scan
    for buf, offset, cpu, flags in source:
        evt = insp.process(buf, offset, cpu, flags)   # Event with .thread, .fdinfo, .fd set

Per event: one thread lookup, and one list index for the per-type plan; events that no parser
cares about and that carry no fd cost nothing more.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

from tercel.capture.records import FD_DIRECTORY, FD_FILE, InitialState, MachineInfo
from tercel.state import eventtable as et
from tercel.state import params as P
from tercel.state.event import Event, decode_at
from tercel.state.fdinfo import PPM_O_CLOEXEC, PPM_O_DIRECTORY, FdInfo, FdTable
from tercel.state.parsers import (
    ENTER_PARSERS,
    EXIT_PARSERS,
    META_PARSERS,
    Parser,
    _resolve_at,
)
from tercel.state.threadinfo import PPM_CL_CLONE_THREAD, ThreadInfo, ThreadTable
from tercel.state.users import UserTable

_current: Inspector | None = None
_PROCINFO_E = et.PROCINFO_E
_TYPE = struct.Struct("<H").unpack_from  # the type code, at offset 20 of the v2 header
_TS_TID = struct.Struct("<Qq").unpack_from
# a newest-generation close exit as the drivers write it: header, 2 lengths, res, fd (46 bytes)
_CLOSE_X = struct.Struct("<QqIHI2Hqq").unpack_from
_CLOSE_X_CODE = 5
# openat exit (newest, 7 params): header, lengths, fd, dirfd | name | flags, mode, dev, ino
_OPENAT_X_HEAD = struct.Struct("<QqIHI7Hqq").unpack_from  # 56 bytes
_OPENAT_X_TAIL = struct.Struct("<IIIQ").unpack_from
_OPENAT_2_X_CODE = 307
_NFAST = 1024


def current() -> Inspector | None:
    """The inspector that processed the latest event (extractors read tables through it)."""
    return _current


class _Plan:
    __slots__ = ("fd_idx", "fd_related", "meta", "parser", "uses_fd")

    def __init__(self, parser: Parser | None, fd_related: bool, uses_fd: bool, fd_idx: int,
                 meta: Parser | None = None) -> None:
        self.meta = meta  # parser of a thread-less meta event (users, groups)
        self.parser = parser
        self.fd_related = fd_related
        self.uses_fd = uses_fd
        self.fd_idx = fd_idx  # the "fd" parameter of events that use one


_NOPLAN = _Plan(None, False, False, -1)


class Inspector:
    def __init__(self, initial: InitialState | None = None, *, users: UserTable | None = None,
                 event_factory: Callable[..., Any] | None = None,
                 max_threads: int | None = None, proc_root: str | None = None,
                 fast_paths: bool = True) -> None:
        initial = initial or InitialState()
        self.machine: MachineInfo | None = initial.machine
        self.hostname = initial.machine.hostname if initial.machine else ""
        self.threads = ThreadTable(max_threads) if max_threads else ThreadTable()
        self._thread_map = self.threads.threads  # the dict itself: one lookup per event
        if users is None:
            users = UserTable(initial.users, initial.groups)
        self.users = users
        self.local_ips: set[bytes] = {i.addr for i in initial.interfaces}
        # live monitoring: "/" (or a host mount) to read container users from /proc/PID/root
        self.proc_root = proc_root
        self.num = 0
        self.first_ts = 0
        self.prev_ts = 0  # timestamp of the event before the current one
        self.last_ts = 0
        # the enter event before the current exit (2022 pairing); check .type == evt.type - 1
        self.cur_enter: Any = None
        self.exited: list[ThreadInfo] = []
        self.pending_close: tuple[FdTable, int] | None = None
        self.created_fd: int | None = None  # set by a parser that made an fd
        self._plans: list[_Plan | None] = [None] * 1024
        self._factory = event_factory
        self._custom_factory = event_factory
        # per type code: a handler that does an event's state work from its raw bytes, for codes no
        # consumer wants as Events (see set_wanted); None: build the Event
        self._fast: list[Any] | None = None
        self._decoded = Event.decoded
        # fast_paths=False: every event through process_event (the reference the tests compare to)
        self.fast_paths = fast_paths
        self.set_wanted(None)
        self._load(initial)

    # --- initial state -------------------------------------------------------------------------
    def _load(self, initial: InitialState) -> None:
        threads = self.threads
        for rec in initial.procs:
            threads.add(ThreadInfo.from_record(rec))
        # secondary threads share their process's fd table (CLONE_THREAD|CLONE_FILES)
        for th in list(threads):
            if th.tid != th.pid and th.flags & PPM_CL_CLONE_THREAD:
                main = threads.get(th.pid)
                if main is not None:
                    th.fdtable = main.fdtable
        for frec in initial.fds:
            owner = threads.get(frec.tid)
            if owner is not None:
                owner.fdtable.add(frec.fd, FdInfo.from_record(frec))

    # --- per event ------------------------------------------------------------------------------
    def _event_factory(self) -> Callable[..., Any]:
        if self._factory is None:
            from tercel.state.event import Event  # the state layer's own Event class
            self._factory = Event
        return self._factory

    def process(self, buf: Any, offset: int, cpu: int, flags: int) -> Any:
        """Decode the event header at ``offset``, update state, return the Event (None for an
        event of a type the consumer does not want, see ``set_wanted``: its state work is done)."""
        global _current
        self.num += 1
        # the previous event's deferred work (what _before does, inline: every event pays it)
        if _current is not self:
            _current = self
        if self.exited:
            for t in self.exited:
                self.threads.mark_dead(t)
            self.exited.clear()
        pending = self.pending_close
        if pending is not None:
            pending[0].remove(pending[1])  # libsinsp removes a closed fd when the next event arrives
            self.pending_close = None
        fast = self._fast
        if fast is not None:
            etype = _TYPE(buf, offset + 20)[0]
            if etype < _NFAST:
                handler = fast[etype]
                if handler is not None:
                    done = handler(self, buf, offset, cpu, flags)
                    if done is not False:
                        return done  # None: state done, no Event wanted; else the Event
        factory = self._factory or self._event_factory()
        return self._process(factory(buf, offset, cpu, flags, self.num))

    def set_wanted(self, wanted: Iterable[int] | None) -> None:
        """The type codes whose events the consumer reads (e.g. the rules' event types); events
        of other codes then cost no Event when their state work can be done from the raw bytes,
        and ``process`` returns None for them. None: every event is wanted (the default)."""
        if not self.fast_paths:
            self._fast = None
            return
        fast: list[Any] = [None] * _NFAST
        # wanted or not, an openat exit is decoded and parsed in one go (into the state layer's
        # own Event: not with an event factory of the caller's)
        if self._custom_factory is None:
            fast[_OPENAT_2_X_CODE] = Inspector._openat_exit
        self._fast = fast
        if wanted is None:
            return
        want = bytearray(_NFAST)
        for c in wanted:
            if 0 <= c < _NFAST:
                want[c] = 1
        for code in range(2, min(_NFAST, et.PPM_EVENT_MAX)):  # 0/1: GENERIC, the name varies
            if want[code]:
                continue
            info = et.TABLE[code]
            if not info.known:
                continue
            if code == _CLOSE_X_CODE:
                fast[code] = Inspector._close_exit
                continue
            if code == _PROCINFO_E:
                continue
            plan = _plan_for(info, info.name, info.is_exit, info.index_by_name)
            if not info.is_exit:
                # an enter is kept for its exit when that exit is wanted or parsed (2022 pairing),
                # or when the exit would read the fd the enter names
                exit_flags = et.TABLE[code + 1].flags if code + 1 < et.PPM_EVENT_MAX else 0
                if want[code + 1] or info.name in EXIT_PARSERS or (
                        info.flags & et.EF_USES_FD and not exit_flags & et.EF_USES_FD):
                    continue
            if plan is _NOPLAN:
                fast[code] = Inspector._skip_event
            elif plan.parser is None and plan.meta is None and plan.fd_related:
                fast[code] = _fd_only(code, info, plan)

    def _before(self) -> None:
        """What every event does first: the previous event's deferred removals."""
        global _current
        if _current is not self:
            _current = self
        if self.exited:
            for t in self.exited:
                self.threads.mark_dead(t)
            self.exited.clear()
        if self.pending_close is not None:
            # libsinsp removes a closed fd when the next event arrives
            table, cfd = self.pending_close
            table.remove(cfd)
            self.pending_close = None

    def _skip_event(self, buf: Any, offset: int, cpu: int, flags: int) -> Any:
        """An event no parser and no consumer needs: keep the times and the enter/exit pairing."""
        ts, tid = _TS_TID(buf, offset)
        if not self.first_ts:
            self.first_ts = ts
        self.prev_ts = self.last_ts or ts
        self.last_ts = ts
        self.cur_enter = None
        th = self._thread_map.get(tid)
        if th is not None:
            th.last_enter = None
        return None

    def _close_exit(self, buf: Any, offset: int, cpu: int, flags: int) -> Any:
        """close exit (newest: res, fd) straight from its bytes; anything unusual: the Event path."""
        try:
            ts, tid, elen, _t, n, l0, l1, res, fd = _CLOSE_X(buf, offset)
        except struct.error:
            return False
        if n != 2 or l0 != 8 or l1 != 8 or elen < 46:
            return False
        th = self._thread_map.get(tid)
        if th is None:
            return False
        if not self.first_ts:
            self.first_ts = ts
        self.prev_ts = self.last_ts or ts
        self.last_ts = ts
        self.cur_enter = None
        th.last_fd = fd
        if res >= 0:
            self.pending_close = (th.fdtable, fd)  # removed when the next event arrives
        th.last_enter = None
        return None

    def _openat_exit(self, buf: Any, offset: int, cpu: int, flags: int) -> Any:
        """openat exit (newest generation) with the usual lengths: the Event and parse_open's
        work from one pass over its bytes (the same result as process_event + parse_open)."""
        if buf.__class__ is not bytes:
            return False
        try:
            ts, tid, elen, etype, n, l0, l1, l2, l3, l4, l5, l6, fd, dirfd = _OPENAT_X_HEAD(buf, offset)
        except struct.error:
            return False
        a = offset + 56
        b = a + l2
        if n != 7 or l0 != 8 or l1 != 8 or l3 != 4 or l4 != 4 or l5 != 4 or l6 != 8 \
                or b + 20 != offset + elen or b + 20 > len(buf):
            return False
        th = self._thread_map.get(tid)
        if th is None:
            return False  # the general path makes the thread
        nul = buf.find(b"\0", a, b)
        name = buf[a:b if nul < 0 else nul].decode("utf-8", "surrogateescape")
        oflags, mode, dev, ino = _OPENAT_X_TAIL(buf, b)
        evt = self._decoded(buf, offset, cpu, flags, self.num, ts, tid, elen, etype, 7,
                            [fd, dirfd, name, oflags, mode, dev, ino])
        if not self.first_ts:
            self.first_ts = ts
        self.prev_ts = self.last_ts or ts
        self.last_ts = ts
        evt.thread = th
        enter = th.last_enter
        if enter is not None and enter.type == etype - 1:
            self.cur_enter = enter
        else:
            self.cur_enter = None
            th.last_fd = -1  # an fd-creating exit without its enter starts afresh
        fds = th.fdtable.fds
        fdinfo = fds.get(th.last_fd)
        old_name = fdinfo.name if fdinfo is not None else ""
        self.created_fd = None
        if fd >= 0:
            if name[:1] == "/":
                path = P.concat_path("/", name)
            else:
                path = _resolve_at(th, dirfd, name)
            fi = FdInfo(FD_DIRECTORY if oflags & PPM_O_DIRECTORY else FD_FILE, path, name, oflags)
            fi.cloexec = bool(oflags & PPM_O_CLOEXEC)
            fi.dev = dev
            fi.ino = ino
            th.fdtable.add(fd, fi)
            self.created_fd = th.last_fd = fd
            fdinfo = fds.get(fd)
        evt.fd = th.last_fd
        evt.fdinfo = fdinfo
        if fdinfo is not None and fdinfo.name != old_name:
            evt.cache = {"fd.name_changed": True}
        th.last_enter = None
        return evt

    def process_event(self, evt: Any) -> Any:
        """Update state with an Event built elsewhere; returns it."""
        self._before()
        return self._process(evt)

    def _process(self, evt: Any) -> Any:
        ts = evt.ts
        etype = evt.type
        if etype != _PROCINFO_E:  # sysdig hides procinfo: no delta from it
            if not self.first_ts:
                self.first_ts = ts
            self.prev_ts = self.last_ts or ts
            self.last_ts = ts
        elif not self.first_ts:
            self.first_ts = ts

        plans = self._plans
        try:
            plan = plans[etype]
        except IndexError:
            if etype > 0xFFFF:
                return evt
            plans.extend([None] * (etype + 1 - len(plans)))
            plan = None
        if plan is None:
            plan = plans[etype] = self._make_plan(evt)

        th = self._thread_map.get(evt.tid)
        is_exit = etype & 1
        if plan is _NOPLAN:
            # nothing to parse and no fd: only keep the enter/exit pairing exact
            evt.thread = th
            if th is None:
                self.cur_enter = None
            elif is_exit:
                self.cur_enter = th.last_enter  # unchecked: consumers compare its type
                th.last_enter = None
            else:
                self.cur_enter = None
                th.last_enter = evt
            return evt
        if plan.meta is not None:
            evt.thread = None
            plan.meta(self, evt, None)
            return evt
        if th is None:
            th = self._invalid_thread(evt.tid)
        evt.thread = th
        if is_exit:
            enter = th.last_enter
            self.cur_enter = enter if enter is not None and enter.type == etype - 1 else None
        else:
            self.cur_enter = None

        # the fd the event is about (libsinsp's m_lastevent_fd): enters reset it and set it from
        # their fd parameter; 2022 exits keep the enter's; newest exits carry it themselves
        fdinfo = None
        if plan.fd_related:
            if not is_exit or (not plan.uses_fd and self.cur_enter is None):
                th.last_fd = -1  # enters, and exit-only fd-creating events, start afresh
            if plan.uses_fd:
                i = plan.fd_idx
                if 0 <= i < evt.nparams:
                    v = evt.param(i)
                    if type(v) is int:
                        th.last_fd = v
            fdinfo = th.fdtable.fds.get(th.last_fd)
        parser = plan.parser
        if parser is not None:
            old_name = fdinfo.name if fdinfo is not None else ""
            self.created_fd = None
            parser(self, evt, th)
            th = evt.thread or th
            if self.created_fd is not None:
                # the parser made an fd (open, socket, accept, dup, pipe...): the event is about it
                th.last_fd = self.created_fd
                fdinfo = th.fdtable.fds.get(self.created_fd)
        if plan.fd_related:
            evt.fd = th.last_fd
            evt.fdinfo = fdinfo
            if parser is not None and fdinfo is not None and fdinfo.name != old_name:
                # fd.name_changed: this event gave its fd a (new) name
                if evt.cache is None:
                    evt.cache = {}
                evt.cache["fd.name_changed"] = True
        th.last_enter = None if is_exit else evt
        return evt

    def _make_plan(self, evt: Any) -> _Plan:
        return _plan_for(evt.info, evt.name, evt.is_exit, P.index(evt))

    def _invalid_thread(self, tid: int) -> ThreadInfo:
        """A thread first seen in an event (not in the initial state): known by tid only."""
        th = ThreadInfo(tid=tid, pid=tid, ptid=-1, comm="<NA>", exe="<NA>", invalid=True,
                        fdlimit=-1, fdtable=FdTable())
        return self.threads.add(th)


_HDR = struct.Struct("<QqIHI").unpack_from
_LENS16 = [struct.Struct(f"<{n}H").unpack_from for n in range(65)]
_LENS32 = [struct.Struct(f"<{n}I").unpack_from for n in range(65)]


def _fd_only(code: int, info: Any, plan: _Plan) -> Callable[..., Any]:
    """A handler for an event no parser and no consumer needs but that names an fd (read,
    write, fstat...): what process_event would leave, the thread's latest fd, from the raw bytes
    (the fd parameter alone is decoded, as Event.param would)."""
    is_exit = info.is_exit
    uses_fd = plan.uses_fd
    i = plan.fd_idx
    width = 4 if info.large_payload else 2
    lens_of = _LENS32 if width == 4 else _LENS16
    p = info.params[i] if 0 <= i < len(info.params) else None
    ptype = p.type if p is not None else -1

    def handler(self: Inspector, buf: Any, offset: int, cpu: int, flags: int) -> Any:
        try:
            ts, tid, elen, _t, n = _HDR(buf, offset)
        except struct.error:
            return False
        th = self._thread_map.get(tid)
        if th is None:
            return False  # the general path makes the thread
        if not self.first_ts:
            self.first_ts = ts
        self.prev_ts = self.last_ts or ts
        self.last_ts = ts
        if is_exit:
            enter = th.last_enter
            if enter is not None and enter.type == code - 1:
                self.cur_enter = enter
            else:
                self.cur_enter = None
                if not uses_fd:
                    th.last_fd = -1
        else:
            self.cur_enter = None
            th.last_fd = -1
        if uses_fd and 0 <= i < n and i < 64:
            start = offset + 26
            end = offset + elen
            if end > len(buf):
                end = len(buf)
            if n * width > end - start:
                n = max(0, (end - start) // width)
            if i < n:
                lens = lens_of[i + 1](buf, start)
                a = start + n * width + sum(lens) - lens[i]
                b = a + lens[i]
                if b <= end:
                    v = decode_at(ptype, buf, a, b, p) if p is not None else None
                    if v.__class__ is int:
                        th.last_fd = v
        th.last_enter = None
        return None
    return handler


def _plan_for(info: Any, name: str, is_exit: bool, idx: dict[str, int]) -> _Plan:
    """What the inspector does for events of one type (name: what evt.type shows)."""
    meta = META_PARSERS.get(name)
    if meta is not None:
        return _Plan(None, False, False, -1, meta)
    parser = EXIT_PARSERS.get(name) if is_exit else ENTER_PARSERS.get(name)
    # enters of parsed syscalls are kept for their exit (2022 pairing)
    needed_by_exit = not is_exit and name in EXIT_PARSERS
    flags = getattr(info, "flags", 0)
    fd_related = bool(flags & (et.EF_CREATES_FD | et.EF_USES_FD | et.EF_DESTROYS_FD))
    uses_fd = bool(flags & et.EF_USES_FD)
    fd_idx = idx.get("fd", -1) if uses_fd else -1
    if parser is None and not fd_related and not needed_by_exit:
        return _NOPLAN
    return _Plan(parser, fd_related, uses_fd, fd_idx)
