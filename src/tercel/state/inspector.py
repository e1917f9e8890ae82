"""The Inspector: turns raw events into ``Event`` objects carrying the state they need.

    insp = Inspector(initial_state)                  # records from the capture or a /proc scan
    for buf, offset, cpu, flags in source:
        evt = insp.process(buf, offset, cpu, flags)   # Event with .thread, .fdinfo, .fd set

Per event: one thread lookup, and one list index for the per-type plan; events that no parser
cares about and that carry no fd cost nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tercel.capture.records import InitialState, MachineInfo
from tercel.state import eventtable as et
from tercel.state import params as P
from tercel.state.fdinfo import FdInfo, FdTable
from tercel.state.parsers import (
    ENTER_PARSERS,
    EXIT_PARSERS,
    META_PARSERS,
    Parser,
)
from tercel.state.threadinfo import PPM_CL_CLONE_THREAD, ThreadInfo, ThreadTable
from tercel.state.users import UserTable

_current: Inspector | None = None


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
                 max_threads: int | None = None, proc_root: str | None = None) -> None:
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
        """Decode the event header at ``offset``, update state, return the Event."""
        self.num += 1
        factory = self._factory or self._event_factory()
        return self.process_event(factory(buf, offset, cpu, flags, self.num))

    def process_event(self, evt: Any) -> Any:
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
        ts = evt.ts
        etype = evt.type
        if etype != et.PROCINFO_E:  # sysdig hides procinfo: no delta from it
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
        name = evt.name
        is_exit = evt.is_exit
        meta = META_PARSERS.get(name)
        if meta is not None:
            return _Plan(None, False, False, -1, meta)
        parser = EXIT_PARSERS.get(name) if is_exit else ENTER_PARSERS.get(name)
        # enters of parsed syscalls are kept for their exit (2022 pairing)
        needed_by_exit = not is_exit and name in EXIT_PARSERS
        flags = getattr(evt.info, "flags", 0)
        fd_related = bool(flags & (et.EF_CREATES_FD | et.EF_USES_FD | et.EF_DESTROYS_FD))
        uses_fd = bool(flags & et.EF_USES_FD)
        idx = P.index(evt)
        fd_idx = idx.get("fd", -1) if uses_fd else -1
        if parser is None and not fd_related and not needed_by_exit:
            return _NOPLAN
        return _Plan(parser, fd_related, uses_fd, fd_idx)

    def _invalid_thread(self, tid: int) -> ThreadInfo:
        """A thread first seen in an event (not in the initial state): known by tid only."""
        th = ThreadInfo(tid=tid, pid=tid, ptid=-1, comm="<NA>", exe="<NA>", invalid=True,
                        fdlimit=-1, fdtable=FdTable())
        return self.threads.add(th)
