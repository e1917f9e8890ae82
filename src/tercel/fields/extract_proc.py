"""Extraction of process/thread (proc.*, thread.*), user.*, group.* and container.* fields."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from tercel.capture.records import UID_NONE
from tercel.fields import catalog  # noqa: F401  (declarations first: this module attaches to them)
from tercel.fields.registry import Extractor, implement
from tercel.state import inspector as I
from tercel.state.containers import HOST
from tercel.state.threadinfo import ThreadInfo

CAP_NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
SHELLS = frozenset({"sh", "bash", "csh", "tcsh", "ksh", "zsh", "dash", "fish", "ash"})


def caps_text(caps: int) -> str:
    return " ".join(n for i, n in enumerate(CAP_NAMES) if caps >> i & 1)


def cmdline(t: ThreadInfo) -> str:
    return " ".join((t.comm, *t.args)) if t.args else t.comm


def exeline(t: ThreadInfo) -> str:
    return t.exe + " " + " ".join(t.args)


def _thread(evt: Any) -> ThreadInfo | None:
    return evt.thread


def _simple(name: str, get: Callable[[ThreadInfo], Any]) -> None:
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            t = evt.thread
            return None if t is None else get(t)
        return fn
    implement(name, factory)


def _parent(name: str, get: Callable[[ThreadInfo], Any]) -> None:
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            t = evt.thread
            if t is None:
                return None
            p = t.parent()
            return None if p is None else get(p)
        return fn
    implement(name, factory)


def _ancestor(name: str, get: Callable[[ThreadInfo], Any]) -> None:
    """proc.aXXX[N]: the Nth ancestor (0 = self); without index: all ancestors, as a tuple."""
    def factory(arg: str | None) -> Extractor:
        if arg is None or arg == "":
            def any_fn(evt: Any) -> Any:
                t = _thread(evt)
                if t is None:
                    return None
                vals = tuple(get(a) for a in t.ancestors())
                return vals if vals else None
            return any_fn
        level = int(arg)

        def fn(evt: Any) -> Any:
            t = _thread(evt)
            if t is None:
                return None
            a = t.main_thread() if level == 0 else t.ancestor(level)
            return None if a is None else get(a)
        return fn
    implement(name, factory)


def _duration(evt: Any, t: ThreadInfo | None) -> int | None:
    if t is None or not t.clone_ts:
        return None
    return max(0, evt.ts - t.clone_ts)


_SID: Callable[[ThreadInfo], int] = attrgetter("sid")
_VPGID: Callable[[ThreadInfo], int] = attrgetter("vpgid")


def _leader(t: ThreadInfo, key: Callable[[ThreadInfo], int]) -> ThreadInfo:
    """The thread whose tid is ``key(t)`` (the session or process-group leader); inside a pid
    namespace, or when it is gone, the furthest ancestor that still shares ``key``."""
    lid = key(t)
    if not t.is_in_pid_namespace() and t.table is not None:
        s = t.table.get(lid)
        if s is not None:
            return s
    leader = t
    for a in t.ancestors():
        if key(a) != lid:
            break
        leader = a
    return leader


def _session_leader(t: ThreadInfo) -> ThreadInfo:
    return _leader(t, _SID)


def _group_leader(t: ThreadInfo) -> ThreadInfo:
    return _leader(t, _VPGID)


def _env(arg: str | None) -> Extractor:
    if not arg:
        def all_fn(evt: Any) -> Any:
            t = _thread(evt)
            return None if t is None else " ".join(t.main_thread().env or t.env)
        return all_fn
    prefix = arg + "="

    def fn(evt: Any) -> Any:
        t = _thread(evt)
        if t is None:
            return None
        for item in t.main_thread().env or t.env:
            if item.startswith(prefix):
                return item[len(prefix):]
        return None
    return fn


def _aenv(arg: str | None) -> Extractor:
    if arg and arg.isdigit():
        level = int(arg)

        def lvl(evt: Any) -> Any:
            t = _thread(evt)
            a = None if t is None else t.ancestor(level)
            return None if a is None else " ".join(a.env)
        return lvl
    if not arg:
        def any_fn(evt: Any) -> Any:
            t = _thread(evt)
            if t is None:
                return None
            return tuple(" ".join(a.env) for a in t.ancestors()) or None
        return any_fn
    prefix = arg + "="

    def key(evt: Any) -> Any:
        t = _thread(evt)
        if t is None:
            return None
        for n, a in enumerate(t.ancestors()):
            if n >= 20:
                break
            for item in a.env:
                if item.startswith(prefix):
                    return item[len(prefix):]
        return None
    return key


def _loginshellid(t: ThreadInfo) -> int | None:
    found = None
    for a in (t, *t.ancestors()):
        if a.comm in SHELLS:
            found = a.pid
    return found


def _nthreads(t: ThreadInfo) -> int:
    if t.table is None:
        return 1
    pid = t.pid
    return sum(1 for x in t.table if x.pid == pid and not x.dead)


def _cgroup(arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        t = _thread(evt)
        if t is None:
            return None
        for ctrl, path in t.cgroups:
            if ctrl == arg:
                return path
        return None
    return fn


def _tid(_arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        tid = evt.tid
        return tid if -1 <= tid <= 0xFFFFFFFF else None
    return fn


def _container_users(insp: Any, t: ThreadInfo) -> None:
    cid = t.container_id
    if cid != HOST and insp.proc_root is not None and cid not in insp.users.containers:
        insp.users.load_container(cid, f"{insp.proc_root.rstrip('/')}/proc/{t.pid}/root")


def _user_field(get: Callable[[Any], Any], login: bool = False) -> Callable[[str | None], Extractor]:
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            t = _thread(evt)
            insp = I.current()
            if t is None or insp is None:
                return None
            _container_users(insp, t)
            u = insp.users.lookup_user(t.loginuid if login else t.uid, t.container_id)
            return "<NA>" if u is None else get(u)  # current libsinsp's placeholder user
        return fn
    return factory


def _group_name(_arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        t = _thread(evt)
        insp = I.current()
        if t is None or insp is None:
            return None
        _container_users(insp, t)
        g = insp.users.lookup_group(t.gid, t.container_id)
        return "<NA>" if g is None else g.name
    return fn


def _loginuid(t: ThreadInfo) -> int:
    return t.loginuid if t.loginuid < UID_NONE else -1


def _container_name(t: ThreadInfo) -> str | None:
    return HOST if t.container_id == HOST else None


def _register() -> None:
    s = _simple
    s("proc.exe", lambda t: t.exe)
    s("proc.exepath", lambda t: t.exepath)
    s("proc.name", lambda t: t.comm)
    s("proc.args", lambda t: " ".join(t.args))
    s("proc.cmdline", cmdline)
    s("proc.exeline", exeline)
    s("proc.cmdnargs", lambda t: len(t.args))
    s("proc.cmdlenargs", lambda t: sum(len(a) for a in t.args))
    s("proc.cwd", lambda t: t.get_cwd())
    s("proc.loginshellid", _loginshellid)
    s("proc.tty", lambda t: t.tty)
    s("proc.pid", lambda t: t.pid if -1 <= t.pid <= 0xFFFFFFFF else None)
    s("proc.ppid", lambda t: t.main_thread().ptid)
    s("proc.vpid", lambda t: t.vpid if t.vpid != -1 else None)
    s("proc.sid", lambda t: t.sid)
    s("proc.sname", lambda t: _session_leader(t).comm)
    s("proc.sid.exe", lambda t: _session_leader(t).exe)
    s("proc.sid.exepath", lambda t: _session_leader(t).exepath)
    s("proc.vpgid", lambda t: t.vpgid)
    s("proc.vpgid.name", lambda t: _group_leader(t).comm)
    s("proc.vpgid.exe", lambda t: _group_leader(t).exe)
    s("proc.vpgid.exepath", lambda t: _group_leader(t).exepath)
    s("proc.pid.ts", lambda t: t.main_thread().clone_ts or None)
    s("proc.is_exe_writable", lambda t: t.exe_writable)
    s("proc.is_exe_upper_layer", lambda t: t.exe_upper_layer)
    s("proc.is_exe_from_memfd", lambda t: t.exe_from_memfd)
    s("proc.is_sid_leader", lambda t: t.sid == (t.vpid if t.vpid >= 0 else t.pid))
    s("proc.is_vpgid_leader", lambda t: t.vpgid == (t.vpid if t.vpid >= 0 else t.pid))
    s("proc.exe_ino", lambda t: t.exe_ino or None)
    s("proc.exe_ino.ctime", lambda t: t.exe_ino_ctime or None)
    s("proc.exe_ino.mtime", lambda t: t.exe_ino_mtime or None)
    s("proc.exe_ino.ctime_duration_proc_start",
      lambda t: t.clone_ts - t.exe_ino_ctime if t.exe_ino_ctime and t.clone_ts >= t.exe_ino_ctime
      else None)
    s("proc.exe_ino.ctime_duration_pidns_start",
      lambda t: t.exe_ino_ctime - t.pidns_init_start_ts
      if t.exe_ino_ctime and t.pidns_init_start_ts and t.exe_ino_ctime >= t.pidns_init_start_ts
      else None)
    s("proc.pidns_init_start_ts", lambda t: t.pidns_init_start_ts or None)
    s("thread.cap_permitted", lambda t: caps_text(t.cap_permitted))
    s("thread.cap_inheritable", lambda t: caps_text(t.cap_inheritable))
    s("thread.cap_effective", lambda t: caps_text(t.cap_effective))
    s("proc.fdopencount", lambda t: len(t.fdtable))
    s("proc.fdlimit", lambda t: t.fdlimit)
    s("proc.fdusage", lambda t: len(t.fdtable) * 100.0 / t.fdlimit if t.fdlimit > 0 else 0.0)
    s("proc.vmsize", lambda t: t.main_thread().vmsize_kb)
    s("proc.vmrss", lambda t: t.main_thread().vmrss_kb)
    s("proc.vmswap", lambda t: t.main_thread().vmswap_kb)
    s("thread.pfmajor", lambda t: t.pfmajor)
    s("thread.pfminor", lambda t: t.pfminor)
    s("thread.ismain", lambda t: t.is_main)
    s("thread.vtid", lambda t: t.vtid if t.vtid != -1 else None)
    s("thread.nametid", lambda t: f"{t.comm}{t.tid}")
    s("thread.cgroups", lambda t: " ".join(f"{c}={p}" for c, p in t.cgroups) or None)
    s("thread.vmsize", lambda t: t.vmsize_kb if t.is_main else 0)
    s("thread.vmrss", lambda t: t.vmrss_kb if t.is_main else 0)
    s("thread.vmsize.b", lambda t: t.vmsize_kb * 1024 if t.is_main else 0)
    s("thread.vmrss.b", lambda t: t.vmrss_kb * 1024 if t.is_main else 0)
    s("proc.nthreads", _nthreads)
    s("proc.nchilds", lambda t: max(0, _nthreads(t) - 1))
    implement("thread.tid", _tid)
    implement("proc.env", _env)
    implement("proc.aenv", _aenv)
    implement("thread.cgroup", _cgroup)

    p = _parent
    p("proc.pexe", lambda t: t.exe)
    p("proc.pexepath", lambda t: t.exepath)
    p("proc.pname", lambda t: t.comm)
    p("proc.pcmdline", cmdline)
    p("proc.pvpid", lambda t: t.vpid)
    p("proc.ppid.ts", lambda t: t.clone_ts or None)

    a = _ancestor
    a("proc.aexe", lambda t: t.exe)
    a("proc.aexepath", lambda t: t.exepath)
    a("proc.aname", lambda t: t.comm)
    a("proc.acmdline", cmdline)
    a("proc.apid", lambda t: t.pid)

    def dur(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            t = _thread(evt)
            return None if t is None else _duration(evt, t)
        return fn

    def pdur(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            t = _thread(evt)
            return None if t is None else _duration(evt, t.parent())
        return fn
    implement("proc.duration", dur)
    implement("proc.ppid.duration", pdur)

    s("user.uid", lambda t: t.uid)
    s("user.loginuid", _loginuid)
    implement("user.name", _user_field(lambda u: u.name))
    implement("user.homedir", _user_field(lambda u: u.homedir))
    implement("user.shell", _user_field(lambda u: u.shell))
    implement("user.loginname", _user_field(lambda u: u.name, login=True))
    s("group.gid", lambda t: t.gid)
    implement("group.name", _group_name)

    s("container.id", lambda t: t.container_id)
    # deprecated container-plugin probes: tercel has no health-check metadata
    for name in ("proc.is_container_healthcheck", "proc.is_container_liveness_probe",
                 "proc.is_container_readiness_probe"):
        s(name, lambda t: False)
    s("container.name", _container_name)
    s("container.start_ts",
      lambda t: t.pidns_init_start_ts or None if t.container_id != HOST else None)


_register()
