"""Threads: one ``ThreadInfo`` per tid, in a bounded ``ThreadTable``."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tercel.capture.records import UID_NONE, ProcRecord
from tercel.state.containers import HOST, container_id
from tercel.state.fdinfo import FdInfo, FdTable

PPM_CL_CLONE_FILES = 1 << 0
PPM_CL_CLONE_THREAD = 1 << 13
PPM_CL_CLONE_PARENT = 1 << 8

MAX_THREADS = 131072  # hostile input cannot grow the table beyond this
MAX_DEAD_KEPT = 4096  # exited threads kept (so children still see their parent), oldest purged first
MAX_ANCESTORS = 64  # parent walks stop here (and on loops)


@dataclass(slots=True, eq=False)
class ThreadInfo:
    tid: int
    pid: int = -1
    ptid: int = -1
    sid: int = -1
    vpgid: int = -1
    pgid: int = -1
    vtid: int = -1
    vpid: int = -1
    comm: str = ""
    exe: str = ""
    exepath: str = ""
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    cwd: str = ""
    root: str = ""
    uid: int = UID_NONE
    gid: int = UID_NONE
    euid: int = UID_NONE
    egid: int = UID_NONE
    loginuid: int = UID_NONE
    tty: int = 0
    cgroups: tuple[tuple[str, str], ...] = ()
    container_id: str = HOST
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    exe_writable: bool = False
    exe_upper_layer: bool = False
    exe_lower_layer: bool = False
    exe_from_memfd: bool = False
    exe_ino: int = 0
    exe_ino_ctime: int = 0
    exe_ino_mtime: int = 0
    pidns_init_start_ts: int = 0
    clone_ts: int = 0
    fdlimit: int = 0
    vmsize_kb: int = 0
    vmrss_kb: int = 0
    vmswap_kb: int = 0
    pfmajor: int = 0
    pfminor: int = 0
    flags: int = 0
    child_subreaper: bool = False  # prctl(PR_SET_CHILD_SUBREAPER), kept on the main thread
    fdtable: FdTable = field(default_factory=FdTable)
    dead: bool = False
    invalid: bool = False  # created on the fly for an unknown tid: fields are "<NA>"
    last_enter: Any = None  # the thread's previous event when it was an enter event (2022 pairing)
    last_fd: int = -1  # the fd of the thread's latest fd-related event (libsinsp m_lastevent_fd)
    table: ThreadTable | None = field(default=None, repr=False)

    # --- relations -------------------------------------------------------------------------
    @property
    def is_main(self) -> bool:
        return self.tid == self.pid

    def main_thread(self) -> ThreadInfo:
        if self.tid == self.pid or self.table is None:
            return self
        main = self.table.get(self.pid)
        return main if main is not None else self

    def parent(self) -> ThreadInfo | None:
        """The parent process's main thread (looked up by ptid)."""
        if self.table is None or self.ptid == self.tid:
            return None
        return self.table.get(self.ptid)

    def ancestors(self) -> Iterator[ThreadInfo]:
        """The process's parent, grandparent, ...: bounded and loop-safe. (A secondary thread's
        own ptid is the thread that created it; its ancestors are its process's.)"""
        seen = {self.tid}
        cur = self.main_thread().parent()
        n = 0
        while cur is not None and cur.tid not in seen and n < MAX_ANCESTORS:
            yield cur
            seen.add(cur.tid)
            n += 1
            cur = cur.parent()

    def ancestor(self, level: int) -> ThreadInfo | None:
        if level == 0:
            return self
        for i, a in enumerate(self.ancestors(), 1):
            if i == level:
                return a
        return None

    # --- derived values ----------------------------------------------------------------------
    def get_cwd(self) -> str:
        return self.main_thread().cwd

    def set_cwd(self, path: str) -> None:
        if not path.endswith("/"):
            path += "/"
        self.cwd = path
        main = self.main_thread()
        if main is not self:
            main.cwd = path

    def get_fd(self, fd: int) -> FdInfo | None:
        return self.fdtable.fds.get(fd)

    def set_cgroups(self, cgroups: tuple[tuple[str, str], ...]) -> None:
        self.cgroups = cgroups
        self.container_id = container_id(cgroups)

    def is_in_pid_namespace(self) -> bool:
        return self.vtid >= 0 and self.vtid != self.tid

    @classmethod
    def from_record(cls, rec: ProcRecord) -> ThreadInfo:
        t = cls(
            tid=rec.tid, pid=rec.pid, ptid=rec.ptid, sid=rec.sid, vpgid=rec.vpgid, pgid=rec.pgid,
            vtid=rec.vtid, vpid=rec.vpid, comm=rec.comm, exe=rec.exe, exepath=rec.exepath,
            args=tuple(rec.args), env=tuple(rec.env), root=rec.root, uid=rec.uid, gid=rec.gid,
            euid=rec.uid, egid=rec.gid, loginuid=rec.loginuid, tty=rec.tty,
            cap_inheritable=rec.cap_inheritable, cap_permitted=rec.cap_permitted,
            cap_effective=rec.cap_effective, exe_writable=rec.exe_writable,
            exe_upper_layer=rec.exe_upper_layer, exe_lower_layer=rec.exe_lower_layer,
            exe_from_memfd=rec.exe_from_memfd, exe_ino=rec.exe_ino,
            exe_ino_ctime=rec.exe_ino_ctime, exe_ino_mtime=rec.exe_ino_mtime,
            pidns_init_start_ts=rec.pidns_init_start_ts, fdlimit=rec.fdlimit,
            vmsize_kb=rec.vmsize_kb, vmrss_kb=rec.vmrss_kb, vmswap_kb=rec.vmswap_kb,
            pfmajor=rec.pfmajor, pfminor=rec.pfminor, flags=rec.flags,
        )
        # PL versions before 6 (sid) and 8 (vpgid) lack these: libsinsp then has -1
        if rec.vpgid == 0:
            t.vpgid = -1
        if t.sid >= 1 << 63:
            t.sid -= 1 << 64
        t.cwd = rec.cwd if rec.cwd.endswith("/") or not rec.cwd else rec.cwd + "/"
        t.set_cgroups(tuple(rec.cgroups))
        return t


class ThreadTable:
    """tid -> ThreadInfo, bounded: exited threads are purged FIFO, and when the table is full
    the oldest entry makes room."""

    __slots__ = ("_dead", "_invalid", "max_threads", "threads")

    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        self.threads: dict[int, ThreadInfo] = {}
        self.max_threads = max_threads
        self._dead: deque[int] = deque()
        self._invalid: deque[int] = deque()

    def get(self, tid: int) -> ThreadInfo | None:
        return self.threads.get(tid)

    def add(self, t: ThreadInfo) -> ThreadInfo:
        threads = self.threads
        if t.tid not in threads and len(threads) >= self.max_threads:
            self._make_room()
        t.table = self
        threads[t.tid] = t
        if t.invalid:
            self._invalid.append(t.tid)
            if len(self._invalid) > self.max_threads:
                self._invalid.popleft()
        return t

    def _make_room(self) -> None:
        """Evict exited threads first, then threads known only by tid, then the oldest entry
        (which spares long-lived ancestors such as init only when nothing else is left)."""
        threads = self.threads
        for queue in (self._dead, self._invalid):
            while queue:
                tid = queue.popleft()
                old = threads.get(tid)
                if old is not None and (old.dead or old.invalid):
                    del threads[tid]
                    return
        threads.pop(next(iter(threads)))

    def mark_dead(self, t: ThreadInfo) -> None:
        """procexit: the thread is gone; keep it a while so its children can still name it."""
        if t.dead:
            return
        t.dead = True
        self._dead.append(t.tid)
        while len(self._dead) > MAX_DEAD_KEPT:
            tid = self._dead.popleft()
            old = self.threads.get(tid)
            if old is not None and old.dead:
                del self.threads[tid]

    def remove(self, tid: int) -> None:
        self.threads.pop(tid, None)

    def __len__(self) -> int:
        return len(self.threads)

    def __iter__(self) -> Iterator[ThreadInfo]:
        return iter(self.threads.values())
