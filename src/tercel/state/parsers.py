"""State updates per event: which event changes which thread or fd, libsinsp's way.

Both generations are handled: 2022 captures carry enter+exit pairs where some exits need the
parameters of the enter event just before them on the same thread (``last_enter``); the newest
drivers put everything in the exit. Parameters are read by name (``tercel.state.params``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tercel.capture import records as R
from tercel.capture.records import GroupRecord, UserRecord
from tercel.state import eventtable as et
from tercel.state import params as P
from tercel.state.container_meta import parse_async_event, parse_container_event
from tercel.state.fdinfo import (
    IP_TYPES,
    PPM_O_CLOEXEC,
    PPM_O_CREAT,
    PPM_O_DIRECTORY,
    PPM_O_TRUNC,
    PPM_O_WRONLY,
    ROLE_CLIENT,
    ROLE_SERVER,
    FdInfo,
    ip_text,
    tuple_name,
)
from tercel.state.params import AT_FDCWD
from tercel.state.threadinfo import (
    PPM_CL_CLONE_FILES,
    PPM_CL_CLONE_PARENT,
    PPM_CL_CLONE_THREAD,
    ThreadInfo,
)

if TYPE_CHECKING:
    from tercel.state.inspector import Inspector

Parser = Callable[["Inspector", Any, ThreadInfo | None], None]

PPM_FCNTL_F_DUPFD = 1
PPM_FCNTL_F_DUPFD_CLOEXEC = 26
PPM_EXE_WRITABLE = 1
PPM_EXE_UPPER_LAYER = 2
PPM_EXE_FROM_MEMFD = 4
PPM_EXE_LOWER_LAYER = 8
EINPROGRESS = 115
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
IPPROTO_ICMP, IPPROTO_ICMPV6 = 1, 58
PPM_AF_NETLINK = 16
BPF_MAP_CREATE, BPF_PROG_LOAD = 0, 5
PPM_PR_SET_CHILD_SUBREAPER, PPM_PR_GET_CHILD_SUBREAPER = 36, 37


def _created(insp: Inspector, th: ThreadInfo, fd: int, fi: FdInfo) -> None:
    """A parser made fd: the event is now about it (libsinsp sets m_lastevent_fd)."""
    th.fdtable.add(fd, fi)
    insp.created_fd = fd


def enter_of(evt: Any, th: ThreadInfo | None) -> Any:
    """The enter event of this exit (2022 pairing): the thread's previous event, if it is the
    enter of the same syscall (exit type - 1)."""
    if th is None:
        return None
    e = th.last_enter
    if e is not None and e.type == evt.type - 1:
        return e
    return None


def param_or_enter(evt: Any, th: ThreadInfo | None, name: str) -> Any:
    """An exit parameter, or (older generations) the same-named parameter of its enter event."""
    v = P.get(evt, name)
    if v is None:
        enter = enter_of(evt, th)
        if enter is not None:
            v = P.get(enter, name)
    return v


def _res(evt: Any) -> int | None:
    return P.get_int(evt, "res")


def _fd_of(evt: Any, th: ThreadInfo | None, name: str = "fd") -> int | None:
    v = param_or_enter(evt, th, name)
    return v if isinstance(v, int) else None


# --- processes --------------------------------------------------------------------------------

def parse_clone(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    res = _res(evt)
    if res is None or res < 0:
        return
    q = P.Named(evt)
    flags = q.int("flags") or 0
    tid_p = q.int("tid")
    pid_p = q.int("pid")
    ptid_p = q.int("ptid")
    threads = insp.threads
    if res == 0:
        # the child's side: the event's own thread is the new one
        child_tid = evt.tid
        existing = threads.get(child_tid)
        if existing is not None and not existing.dead and not existing.invalid \
                and existing.clone_ts and existing.clone_ts <= evt.ts:
            _fill_vids(existing, evt)
            return
        pid = pid_p if pid_p is not None else child_tid
        ptid = ptid_p if ptid_p is not None else -1
        parent_tid = pid if flags & PPM_CL_CLONE_THREAD else ptid
        parent = threads.get(parent_tid)
        if flags & PPM_CL_CLONE_THREAD and parent is None:
            parent = threads.get(ptid)
        child = _new_child(insp, evt, parent, child_tid, pid, ptid, flags)
        _fill_vids(child, evt)
    else:
        # the parent's side: res is the child's tid
        child_tid = res
        existing = threads.get(child_tid)
        if existing is not None and not existing.dead and not existing.invalid \
                and existing.clone_ts and existing.clone_ts <= evt.ts:
            return
        caller = th
        if caller is None or caller.invalid:
            caller = threads.get(tid_p) if tid_p is not None else None
        cpid = pid_p if pid_p is not None else (caller.pid if caller else evt.tid)
        cptid = ptid_p if ptid_p is not None else (caller.ptid if caller else -1)
        if flags & PPM_CL_CLONE_THREAD:
            pid, ptid = cpid, (caller.tid if caller is not None else cptid)
        else:
            pid, ptid = child_tid, (cptid if flags & PPM_CL_CLONE_PARENT else cpid)
        child = _new_child(insp, evt, caller, child_tid, pid, ptid, flags)
        if caller is not None and caller.vtid == caller.tid:
            child.vtid, child.vpid = child.tid, child.pid


def _fill_vids(child: ThreadInfo, evt: Any) -> None:
    q = P.Named(evt)
    vtid, vpid = q.int("vtid"), q.int("vpid")
    if vtid is not None:
        child.vtid = vtid
    if vpid is not None:
        child.vpid = vpid
    ts = q.int("pidns_init_start_ts")
    if ts:
        child.pidns_init_start_ts = ts


def _new_child(insp: Inspector, evt: Any, parent: ThreadInfo | None, tid: int, pid: int, ptid: int,
               flags: int) -> ThreadInfo:
    q = P.Named(evt)
    if parent is None:
        child = ThreadInfo(tid=tid, pid=pid, ptid=ptid)
    else:
        # the child inherits the parent's identity, credentials, executable and fds
        p = parent
        child = ThreadInfo(
            tid=tid, pid=pid, ptid=ptid, sid=p.sid, vpgid=p.vpgid, pgid=p.pgid, exepath=p.exepath,
            env=p.env, cwd=p.get_cwd(), root=p.root, loginuid=p.loginuid, tty=p.tty,
            cap_inheritable=p.cap_inheritable, cap_permitted=p.cap_permitted,
            cap_effective=p.cap_effective, exe_writable=p.exe_writable, exe_upper_layer=p.exe_upper_layer,
            exe_lower_layer=p.exe_lower_layer, exe_from_memfd=p.exe_from_memfd, exe_ino=p.exe_ino,
            exe_ino_ctime=p.exe_ino_ctime, exe_ino_mtime=p.exe_ino_mtime,
            pidns_init_start_ts=p.pidns_init_start_ts, euid=p.euid, egid=p.egid, uid=p.uid, gid=p.gid,
            comm=p.comm, exe=p.exe, args=p.args, cgroups=p.cgroups, container_id=p.container_id,
            fdtable=p.fdtable if flags & (PPM_CL_CLONE_THREAD | PPM_CL_CLONE_FILES) else p.fdtable.copy())
    exe = q.str("exe")
    if exe is not None:
        child.exe = exe
    a = q.get("args")
    if a is not None:
        child.args = P.split_nul(a)
    comm = q.str("comm")
    child.comm = comm if comm is not None else (child.comm or exe or "")
    cwd = q.str("cwd")
    if cwd and parent is None:
        child.set_cwd(cwd)
    fdlimit = q.int("fdlimit")
    if fdlimit is not None:
        child.fdlimit = fdlimit
    cg = q.get("cgroups")
    if cg is not None:
        child.set_cgroups(P.parse_cgroups(cg))
    uid, gid = q.int("uid"), q.int("gid")
    if uid is not None:
        child.uid = child.euid = uid & 0xFFFFFFFF
    if gid is not None:
        child.gid = child.egid = gid & 0xFFFFFFFF
    child.flags = flags
    child.clone_ts = evt.ts
    insp.threads.add(child)
    return child


def parse_execve(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    res = _res(evt)
    if res is None or res < 0:
        return
    q = P.Named(evt)
    if th is None:
        th = insp.threads.add(ThreadInfo(tid=evt.tid, pid=evt.tid))
        evt.thread = th
    th.invalid = False  # an unknown thread: the execve exit describes it
    enter = enter_of(evt, th)
    exe = q.str("exe")
    if exe is not None:
        th.exe = exe
    a = q.get("args")
    if a is not None:
        th.args = P.split_nul(a)
    for name, attr in (("pid", "pid"), ("ptid", "ptid")):
        v = q.int(name)
        if v is not None:
            setattr(th, attr, v)
    comm = q.str("comm")
    th.comm = comm if comm is not None else (exe or th.comm)
    for name, attr in (("fdlimit", "fdlimit"), ("pgft_maj", "pfmajor"), ("pgft_min", "pfminor"),
                       ("vm_size", "vmsize_kb"), ("vm_rss", "vmrss_kb"), ("vm_swap", "vmswap_kb"),
                       ("cap_inheritable", "cap_inheritable"), ("cap_permitted", "cap_permitted"),
                       ("cap_effective", "cap_effective"), ("exe_ino", "exe_ino"),
                       ("exe_ino_ctime", "exe_ino_ctime"), ("exe_ino_mtime", "exe_ino_mtime")):
        v = q.int(name)
        if v is not None:
            setattr(th, attr, v)
    cg = q.get("cgroups")
    if cg is not None:
        th.set_cgroups(P.parse_cgroups(cg))
    env = q.get("env")
    if env is not None:
        th.env = P.split_nul(env)
    tty = q.int("tty")
    if tty is not None:
        th.tty = tty & 0xFFFFFFFF
    v = q.int("vpgid")  # 2022 called it "pgid" (same index)
    if v is not None:
        th.vpgid = v
    if evt.nparams > 28:  # newest: the host pgid is appended as a second "pgid"
        v = evt.param(28)
        if isinstance(v, int):
            th.pgid = v
    v = q.int("loginuid")
    if v is not None:
        th.loginuid = v & 0xFFFFFFFF
    fl = q.int("flags")
    if fl is not None:
        th.exe_writable = bool(fl & PPM_EXE_WRITABLE)
        th.exe_upper_layer = bool(fl & PPM_EXE_UPPER_LAYER)
        th.exe_from_memfd = bool(fl & PPM_EXE_FROM_MEMFD)
        th.exe_lower_layer = bool(fl & PPM_EXE_LOWER_LAYER)
    uid, gid = q.int("uid"), q.int("gid")
    if uid is not None:
        th.uid = th.euid = uid & 0xFFFFFFFF
    if gid is not None:
        th.gid = th.egid = gid & 0xFFFFFFFF
    # the executable's path: newest drivers send it; 2022 takes the enter event's filename
    path = q.str("trusted_exepath") or None
    if path is None:
        fname = q.str("filename")
        if fname is None and enter is not None:
            fname = P.get_str(enter, "filename")
            if fname is None:
                pathname = P.get_str(enter, "pathname")
                if pathname is not None:
                    dirfd = P.get_int(enter, "dirfd")
                    fname = _resolve_at(th, dirfd if dirfd is not None else AT_FDCWD, pathname)
        if fname:
            path = P.concat_path(th.get_cwd(), fname) if not fname.startswith("/") else fname
    if path is not None:
        th.exepath = path
    th.fdtable.close_on_exec()


def parse_procexit(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    insp.exited.append(th)
    # newest drivers name the reaper that inherits the children (a subreaper such as conmon,
    # or init); 2022 captures do not, and children keep naming their exited parent
    reaper = P.get_int(evt, "reaper_tid")
    if reaper is not None and reaper > 0 and reaper != th.tid:
        tid = th.tid
        for t in insp.threads:
            if t.ptid == tid and t is not th:
                t.ptid = reaper


def parse_prctl(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    """libsinsp keeps only the thread group's child-subreaper attribute from prctl: a successful
    PR_SET_CHILD_SUBREAPER, or PR_GET_CHILD_SUBREAPER (whose arg2_int is the value read back),
    sets it to arg2_int != 0. PR_SET_NAME is not parsed: the comm (proc.name) changes only on
    clone/execve, as in Falco."""
    if th is None or th.invalid or not _ok(evt):
        return
    if P.get_int(evt, "option") not in (PPM_PR_SET_CHILD_SUBREAPER, PPM_PR_GET_CHILD_SUBREAPER):
        return
    arg2 = P.get_int(evt, "arg2_int")
    if arg2 is not None:
        th.main_thread().child_subreaper = arg2 != 0


# --- credentials, sessions, directories ---------------------------------------------------------

def _ok(evt: Any) -> bool:
    res = _res(evt)
    return res is not None and res >= 0


def parse_setuid(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        uid = param_or_enter(evt, th, "uid")
        if isinstance(uid, int):
            th.uid = th.euid = uid & 0xFFFFFFFF


def parse_setgid(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        gid = param_or_enter(evt, th, "gid")
        if isinstance(gid, int):
            th.gid = th.egid = gid & 0xFFFFFFFF


def parse_setresuid(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        euid = param_or_enter(evt, th, "euid")
        if isinstance(euid, int) and euid & 0xFFFFFFFF != 0xFFFFFFFF:
            th.uid = th.euid = euid & 0xFFFFFFFF


def parse_setresgid(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        egid = param_or_enter(evt, th, "egid")
        if isinstance(egid, int) and egid & 0xFFFFFFFF != 0xFFFFFFFF:
            th.gid = th.egid = egid & 0xFFFFFFFF


def parse_setsid(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    res = _res(evt)
    if th is not None and res is not None and res >= 0:
        th.sid = res
        th.vpgid = th.vpid if th.vpid >= 0 else th.pid


def parse_setpgid(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None or not _ok(evt):
        return
    pid = param_or_enter(evt, th, "pid")
    pgid = param_or_enter(evt, th, "pgid")
    target = th if not pid else insp.threads.get(pid)
    if target is None or not isinstance(pgid, int):
        return
    target.vpgid = pgid if pgid else (target.vpid if target.vpid >= 0 else target.pid)


def parse_chdir(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        path = P.get_str(evt, "path")
        if path:
            th.set_cwd(P.concat_path(th.get_cwd(), path))


def parse_fchdir(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        fd = _fd_of(evt, th)
        fi = th.get_fd(fd) if fd is not None else None
        if fi is not None and fi.name:
            th.set_cwd(fi.name)


def parse_chroot(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        path = P.get_str(evt, "path")
        if path:
            th.root = P.concat_path(th.get_cwd(), path)


def parse_capset(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is not None and _ok(evt):
        for name in ("cap_inheritable", "cap_permitted", "cap_effective"):
            v = P.get_int(evt, name)
            if v is not None:
                setattr(th, name, v)


# --- fds --------------------------------------------------------------------------------------

def _resolve_at(th: ThreadInfo, dirfd: int, name: str) -> str:
    if name.startswith("/"):
        return P.concat_path("/", name)
    if dirfd == AT_FDCWD:
        base = th.get_cwd()
    else:
        fi = th.get_fd(dirfd)
        base = fi.name if fi is not None and fi.name else "<UNKNOWN>"
    return P.concat_path(base, name)


def open_path(evt: Any, th: ThreadInfo) -> tuple[str, str, int] | None:
    """(resolved path, raw name, flags) of an open-family exit (and its enter, in 2022)."""
    src = evt
    name = P.get_str(evt, "name")
    if name is None:
        src = enter_of(evt, th)
        if src is None:
            return None
        name = P.get_str(src, "name")
        if name is None:
            return None
    flags = P.get_int(src, "flags")
    if flags is None:
        flags = PPM_O_CREAT | PPM_O_WRONLY | PPM_O_TRUNC if evt.name == "creat" else 0
    dirfd = P.get_int(src, "dirfd")
    path = _resolve_at(th, dirfd if dirfd is not None else AT_FDCWD, name)
    return path, name, flags


_OPEN_IDX: dict[int, tuple[int, int, int, int, int, int]] = {}


def _open_idx(evt: Any) -> tuple[int, int, int, int, int, int]:
    idx = P.index(evt)
    t = tuple(idx.get(n, -1) for n in ("fd", "name", "flags", "dirfd", "dev", "ino"))
    if 0 <= evt.type < et.PPM_EVENT_MAX and evt.info is et.TABLE[evt.type]:  # the table's own entry
        _OPEN_IDX[evt.type] = t  # type: ignore[assignment]
    return t  # type: ignore[return-value]


def parse_open(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    i_fd, i_name, i_flags, i_dirfd, i_dev, i_ino = _OPEN_IDX.get(evt.type) or _open_idx(evt)
    vals = evt.values()
    n = len(vals)
    fd = vals[i_fd] if 0 <= i_fd < n else None
    if fd.__class__ is not int or fd < 0:
        return
    if 0 <= i_name < n:  # newest and 2022 open_X/openat_2_X: everything in the exit
        name = vals[i_name]
        if name.__class__ is not str:
            return
        flags = vals[i_flags] if 0 <= i_flags < n else None
        if flags is None and evt.name == "creat":
            flags = PPM_O_CREAT | PPM_O_WRONLY | PPM_O_TRUNC
        if name[:1] == "/":
            path = P.concat_path("/", name)
        else:  # dirfd only matters for relative names
            dirfd = vals[i_dirfd] if 0 <= i_dirfd < n else None
            path = _resolve_at(th, dirfd if dirfd.__class__ is int else AT_FDCWD, name)
    else:
        op = open_path(evt, th)
        if op is None:
            return
        path, name, flags = op
    flags = flags or 0
    fi = FdInfo(R.FD_DIRECTORY if flags & PPM_O_DIRECTORY else R.FD_FILE, path, name, flags)
    fi.cloexec = bool(flags & PPM_O_CLOEXEC)
    if 0 <= i_dev < n:
        fi.dev = vals[i_dev] or 0
    if 0 <= i_ino < n:
        fi.ino = vals[i_ino] or 0
    _created(insp, th, fd, fi)


def parse_socket(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    fd = P.get_int(evt, "fd")
    if fd is None or fd < 0:
        return
    domain = param_or_enter(evt, th, "domain")
    stype = param_or_enter(evt, th, "type")
    proto = param_or_enter(evt, th, "proto")
    fi = FdInfo(type=R.FD_UNKNOWN)
    if domain == P.AF_UNIX:
        fi.type = R.FD_UNIX_SOCK
    elif domain in (P.AF_INET, P.AF_INET6):
        fi.type = R.FD_IPV4_SOCK if domain == P.AF_INET else R.FD_IPV6_SOCK
        base = (stype or 0) & 0xF
        if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
            fi.l4proto = R.L4_ICMP
        elif base == SOCK_STREAM:
            fi.l4proto = R.L4_TCP
        elif base == SOCK_DGRAM:
            fi.l4proto = R.L4_UDP
        elif base == SOCK_RAW:
            fi.l4proto = R.L4_RAW
    elif domain == PPM_AF_NETLINK:
        fi.type = R.FD_NETLINK
    if isinstance(stype, int) and stype & 0o2000000:  # SOCK_CLOEXEC
        fi.cloexec = True
    _created(insp, th, fd, fi)


def parse_bind(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None or not _ok(evt):
        return
    fd = _fd_of(evt, th)
    fi = th.get_fd(fd) if fd is not None else None
    addr = P.sockaddr(P.raw(evt, "addr"))
    if fi is None or addr is None:
        return
    fam, ip, port, path = addr
    if fam == P.AF_UNIX:
        fi.name = path
        return
    fi.type = R.FD_IPV4_SERVSOCK if fam == P.AF_INET else R.FD_IPV6_SERVSOCK
    fi.sip, fi.sport = ip, port
    fi.role = ROLE_SERVER
    fi.name = f"{ip_text(ip)}:{port}"


def _set_tuple(fi: FdInfo, t: tuple[int, bytes, int, bytes, int, int, int, str], role: int) -> bool:
    """Store a socket tuple on an fd; True when the fd's name changed."""
    fam, sip, sport, dip, dport, usrc, udst, path = t
    old = fi.name
    if fam == P.AF_UNIX:
        if fi.type != R.FD_UNIX_SOCK:
            fi.type = R.FD_UNIX_SOCK
        fi.unix_source, fi.unix_dest = usrc, udst
        fi.name = f"{usrc:x}->{udst:x} {path}"
    else:
        if fam == P.AF_INET:
            fi.type = R.FD_IPV4_SOCK
        else:
            fi.type = R.FD_IPV6_SOCK
        fi.sip, fi.sport, fi.dip, fi.dport = sip, sport, dip, dport
        fi.name = tuple_name(sip, sport, dip, dport)
        if fi.l4proto == R.L4_UNKNOWN:
            fi.l4proto = R.L4_TCP if role == ROLE_SERVER else R.L4_UNKNOWN
    if role:
        fi.role = role
    return bool(old) and old != fi.name


def parse_connect(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    res = _res(evt)
    if res is None or (res < 0 and res != -EINPROGRESS):
        return
    fd = _fd_of(evt, th)
    fi = th.get_fd(fd) if fd is not None else None
    if fi is None:
        return
    t = P.socktuple(P.raw(evt, "tuple"))
    if t is None:
        return
    if t[0] != P.AF_UNIX and not any(t[1]) and not t[2] and not any(t[3]) and not t[4]:
        return
    _set_tuple(fi, t, ROLE_CLIENT)
    fi.connected = True


def parse_connect_enter(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    """2022 connect enter: the destination is known before the exit (unix: the fd's name)."""
    if th is None:
        return
    fd = P.get_int(evt, "fd")
    fi = th.get_fd(fd) if fd is not None else None
    addr = P.sockaddr(P.raw(evt, "addr"))
    if fi is None or addr is None:
        return
    fam, ip, port, path = addr
    if fam == P.AF_UNIX:
        fi.name = path
    elif not (fi.sip or fi.sport):
        fi.dip, fi.dport = ip, port


def parse_accept(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    fd = P.get_int(evt, "fd")
    if fd is None or fd < 0:
        return
    fi = FdInfo(type=R.FD_UNKNOWN)
    t = P.socktuple(P.raw(evt, "tuple"))
    if t is not None:
        if t[0] != P.AF_UNIX:
            fi.l4proto = R.L4_TCP
        _set_tuple(fi, t, ROLE_SERVER)
    fi.role = ROLE_SERVER
    fi.connected = True
    _created(insp, th, fd, fi)


def parse_io_tuple(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    """sendto/sendmsg/recvfrom/recvmsg: unconnected (UDP) sockets learn their peer."""
    if th is None:
        return
    fd = _fd_of(evt, th)
    fi = th.get_fd(fd) if fd is not None else None
    if fi is None or fi.type not in IP_TYPES:
        return
    b = P.raw(evt, "tuple")
    if b is None:
        enter = enter_of(evt, th)
        b = P.raw(enter, "tuple") if enter is not None else None
    t = P.socktuple(b)
    if t is None or t[0] == P.AF_UNIX or (not any(t[1]) and not t[2]):
        return
    if fi.dport and fi.l4proto != R.L4_UDP:
        return
    role = fi.role or (ROLE_CLIENT if evt.name.startswith("send") else ROLE_SERVER)
    _set_tuple(fi, t, role)


def parse_close(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None or not evt.nparams:
        return
    res = evt.param(0)
    if type(res) is not int or res < 0:
        return
    # the inspector already resolved the fd (last_fd): from the exit's own fd parameter (newest),
    # or from the enter event just before (2022; a lone 2022 exit removes nothing)
    if evt.nparams < 2 and insp.cur_enter is None:
        return
    insp.pending_close = (th.fdtable, th.last_fd)


def parse_dup(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    res = _res(evt)
    if res is None or res < 0:
        return
    old = P.get_int(evt, "oldfd")
    if old is None:
        old = _fd_of(evt, th)
    if old is None or old == res:
        return
    fi = th.get_fd(old)
    if fi is None:
        return
    new = fi.copy()
    flags = P.get_int(evt, "flags")
    new.cloexec = bool(flags and flags & PPM_O_CLOEXEC)
    _created(insp, th, res, new)


def parse_fcntl(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    res = _res(evt)
    cmd = param_or_enter(evt, th, "cmd")
    if res is None or res < 0 or cmd not in (PPM_FCNTL_F_DUPFD, PPM_FCNTL_F_DUPFD_CLOEXEC):
        return
    fd = _fd_of(evt, th)
    fi = th.get_fd(fd) if fd is not None else None
    if fi is not None:
        new = fi.copy()
        new.cloexec = cmd == PPM_FCNTL_F_DUPFD_CLOEXEC
        _created(insp, th, res, new)


def parse_pipe(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None or not _ok(evt):
        return
    ino = P.get_int(evt, "ino") or 0
    flags = P.get_int(evt, "flags") or 0
    for name in ("fd1", "fd2"):
        fd = P.get_int(evt, name)
        if fd is not None and fd >= 0:
            _created(insp, th, fd, FdInfo(type=R.FD_FIFO, ino=ino, cloexec=bool(flags & PPM_O_CLOEXEC)))


def parse_socketpair(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None or not _ok(evt):
        return
    src, peer = P.get_int(evt, "source") or 0, P.get_int(evt, "peer") or 0
    for name in ("fd1", "fd2"):
        fd = P.get_int(evt, name)
        if fd is not None and fd >= 0:
            _created(insp, th, fd, FdInfo(type=R.FD_UNIX_SOCK, unix_source=src, unix_dest=peer))


def _res_fd(fdtype: int) -> Parser:
    def parse(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
        if th is None:
            return
        fd = _res(evt)
        if fd is None:
            fd = P.get_int(evt, "fd")
        if fd is not None and fd >= 0:
            _created(insp, th, fd, FdInfo(type=fdtype))
    return parse


def parse_bpf(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    fd = P.get_int(evt, "fd")
    if fd is None:
        # 2022: res_or_fd is a DYN (FD when the command creates one, else ERRNO)
        b = P.raw(evt, "res_or_fd")
        if b is None or len(b) < 9 or b[0] != 0:
            return
        fd = int.from_bytes(b[1:9], "little", signed=True)
    if fd >= 0:
        _created(insp, th, fd, FdInfo(type=R.FD_BPF))


def parse_memfd_create(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    if th is None:
        return
    fd = P.get_int(evt, "fd")
    if fd is None or fd < 0:
        return
    name = P.get_str(evt, "name") or ""
    flags = P.get_int(evt, "flags") or 0
    _created(insp, th, fd, FdInfo(type=R.FD_MEMFD, name=name, cloexec=bool(flags & 1)))  # MFD_CLOEXEC


def parse_vm(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
    """brk/mmap/munmap exits report the process's memory counters."""
    if th is None:
        return
    main = th.main_thread()
    for name, attr in (("vm_size", "vmsize_kb"), ("vm_rss", "vmrss_kb"), ("vm_swap", "vmswap_kb")):
        v = P.get_int(evt, name)
        if v is not None:
            setattr(main, attr, v)
            if main is not th:
                setattr(th, attr, v)


# Exit parsers by event name (every generation of an event shares its name).
EXIT_PARSERS: dict[str, Parser] = {
    "clone": parse_clone, "fork": parse_clone, "vfork": parse_clone, "clone3": parse_clone,
    "execve": parse_execve, "execveat": parse_execve,
    "setuid": parse_setuid, "setgid": parse_setgid, "setresuid": parse_setresuid,
    "setresgid": parse_setresgid, "setreuid": parse_setresuid, "setregid": parse_setresgid,
    "setsid": parse_setsid, "setpgid": parse_setpgid,
    "prctl": parse_prctl,
    "chdir": parse_chdir, "fchdir": parse_fchdir, "chroot": parse_chroot, "capset": parse_capset,
    "open": parse_open, "openat": parse_open, "openat2": parse_open, "creat": parse_open,
    "socket": parse_socket, "bind": parse_bind, "connect": parse_connect,
    "accept": parse_accept, "accept4": parse_accept,
    "sendto": parse_io_tuple, "sendmsg": parse_io_tuple, "recvfrom": parse_io_tuple,
    "recvmsg": parse_io_tuple,
    "close": parse_close, "dup": parse_dup, "dup2": parse_dup, "dup3": parse_dup,
    "fcntl": parse_fcntl, "pipe": parse_pipe, "pipe2": parse_pipe, "socketpair": parse_socketpair,
    "eventfd": _res_fd(R.FD_EVENT), "eventfd2": _res_fd(R.FD_EVENT),
    "signalfd": _res_fd(R.FD_SIGNALFD), "signalfd4": _res_fd(R.FD_SIGNALFD),
    "timerfd_create": _res_fd(R.FD_TIMERFD),
    "inotify_init": _res_fd(R.FD_INOTIFY), "inotify_init1": _res_fd(R.FD_INOTIFY),
    "epoll_create": _res_fd(R.FD_EVENTPOLL), "epoll_create1": _res_fd(R.FD_EVENTPOLL),
    "userfaultfd": _res_fd(R.FD_USERFAULTFD), "bpf": parse_bpf,
    "memfd_create": parse_memfd_create,
    "brk": parse_vm, "mmap": parse_vm, "mmap2": parse_vm, "munmap": parse_vm,
}

def _parse_user(added: bool) -> Parser:
    def parse(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
        uid = P.get_int(evt, "uid")
        if uid is None:
            return
        table = insp.users.container(P.get_str(evt, "container_id") or "", create=added)
        if table is None:
            return
        if added:
            table.add_user(UserRecord(uid, P.get_int(evt, "gid") or 0, P.get_str(evt, "name") or "",
                                      P.get_str(evt, "home") or "", P.get_str(evt, "shell") or ""))
        else:
            table.users.pop(uid, None)
    return parse


def _parse_group(added: bool) -> Parser:
    def parse(insp: Inspector, evt: Any, th: ThreadInfo | None) -> None:
        gid = P.get_int(evt, "gid")
        if gid is None:
            return
        table = insp.users.container(P.get_str(evt, "container_id") or "", create=added)
        if table is None:
            return
        if added:
            table.add_group(GroupRecord(gid, P.get_str(evt, "name") or ""))
        else:
            table.groups.pop(gid, None)
    return parse


# Enter-only events that change state.
ENTER_PARSERS: dict[str, Parser] = {"procexit": parse_procexit, "connect": parse_connect_enter}
# Meta events (no thread of their own) that change state.
META_PARSERS: dict[str, Parser] = {
    "useradded": _parse_user(True), "userdeleted": _parse_user(False),
    "groupadded": _parse_group(True), "groupdeleted": _parse_group(False),
    "container": parse_container_event,  # a capture's container metadata (CONTAINER_JSON...)
    "asyncevent": parse_async_event,  # ... and the container plugin's async events
}
