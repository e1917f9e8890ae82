"""Extraction of fd.*, fdlist.* and fs.path.* fields."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from tercel.capture import records as R
from tercel.fields import catalog  # noqa: F401  (declarations first: this module attaches to them)
from tercel.fields.registry import Extractor, fixed, implement
from tercel.state import inspector as I
from tercel.state import params as P
from tercel.state.containers import HOST
from tercel.state.fdinfo import (
    FILE_TYPES,
    IP_TYPES,
    L4_NAMES,
    ROLE_NONE,
    SERVSOCK_TYPES,
    TYPE_CHAR,
    TYPE_STRING,
    FdInfo,
    ip_text,
)
from tercel.state.params import AT_FDCWD
from tercel.state.parsers import _resolve_at, enter_of, open_path

_MISS = object()
# Exits that create an fd: when they failed (no fdinfo), fd.name still comes from their arguments.
_OPEN_NAMES = frozenset({"open", "openat", "openat2", "creat"})
_TUPLE_NAMES = frozenset({"accept", "accept4", "connect"})
# fd.typechar of failed fd-creating events, by event name (libsinsp's extract_from_null_fd)
_NULL_TYPECHAR = {
    "open": "f", "openat": "f", "openat2": "f", "creat": "f", "socket": "4", "accept": "4",
    "accept4": "4", "pipe": "p", "pipe2": "p", "eventfd": "e", "eventfd2": "e", "signalfd": "s",
    "signalfd4": "s", "timerfd_create": "t", "inotify_init": "i", "inotify_init1": "i",
}


def _null_fd_name(evt: Any, raw: bool = False) -> str | None:
    """The name a failed fd-creating exit was about (libsinsp's extract_fdname_from_creator)."""
    if not evt.is_exit:
        return None
    name = evt.name
    th = evt.thread
    if name in _OPEN_NAMES and th is not None:
        # fd.name, fd.directory, fd.nameraw... of one failed open: resolved once per event
        c = evt.cache
        if c is None:
            c = evt.cache = {}
        op = c.get("fd.open_path", _MISS)
        if op is _MISS:
            op = c["fd.open_path"] = open_path(evt, th)
        if op is None:
            return None
        return op[1] if raw else op[0]
    if name in _TUPLE_NAMES:
        t = P.socktuple(P.raw(evt, "tuple"))
        if t is None:
            return ""
        if t[0] == P.AF_UNIX:
            return t[7]
        return f"{ip_text(t[1])}:{t[2]}->{ip_text(t[3])}:{t[4]}"
    return ""


def _fd(name: str, get: Callable[[FdInfo], Any], null: Callable[[Any], Any] | None = None) -> None:
    def factory(_arg: str | None) -> Extractor:
        if null is None:
            def fn(evt: Any) -> Any:
                fi = evt.fdinfo
                return None if fi is None else get(fi)
        else:
            def fn(evt: Any) -> Any:
                fi = evt.fdinfo
                if fi is None:
                    return None if evt.fd is None or evt.thread is None else null(evt)
                return get(fi)
        return fn
    implement(name, factory)


def _fd2(name: str, get: Callable[[FdInfo, Any], Any]) -> None:
    """An fd field that also needs the event (its thread decides what is local)."""
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            fi = evt.fdinfo
            return None if fi is None else get(fi, evt)
        return fn
    implement(name, factory)


def _directory(fi: FdInfo) -> str | None:
    if fi.type == R.FD_DIRECTORY:
        return fi.name
    if fi.type not in FILE_TYPES:
        return None
    return _dirname(fi.name)


def _dirname(name: str) -> str:
    pos = name.rfind("/")
    if pos > 0:
        return name[:pos] if pos < len(name) - 1 else name
    return "/"


_LOOPBACK6 = b"\0" * 15 + b"\1"


def _is_local(ip: bytes, th: Any) -> bool:
    """libsinsp's is_ipv*addr_in_local_machine: loopback or an interface address; a container
    thread also owns its container's address, unknown here (0.0.0.0, as libsinsp without
    container metadata)."""
    if not any(ip):
        return th is not None and th.container_id != HOST
    if (ip[0] == 127 and len(ip) == 4) or ip == _LOOPBACK6:
        return True
    insp = I.current()
    return insp is not None and ip in insp.local_ips


def _has_tuple(fi: FdInfo) -> bool:
    """A socket with its client end known (connect, accept, sendto) or bound."""
    if fi.type == R.FD_UNIX_SOCK:
        return fi.role != ROLE_NONE  # connected or accepted (not a socketpair end)
    return bool(fi.sip or fi.sport)


_CONN = (R.FD_IPV4_SOCK, R.FD_IPV6_SOCK)


def _cip(fi: FdInfo) -> str | None:
    return ip_text(fi.sip) if fi.type in _CONN and _has_tuple(fi) else None


def _sip(fi: FdInfo) -> str | None:
    if fi.type in _CONN:
        return ip_text(fi.dip) if _has_tuple(fi) else None
    if fi.type in SERVSOCK_TYPES and _has_tuple(fi):
        return ip_text(fi.sip)
    return None


def _cport(fi: FdInfo) -> int | None:
    if fi.type in _CONN:
        return fi.sport if _has_tuple(fi) else None
    if fi.type in SERVSOCK_TYPES or fi.type == R.FD_UNIX_SOCK:
        return 0 if _has_tuple(fi) else None
    return None


def _sport(fi: FdInfo) -> int | None:
    if fi.type in _CONN:
        return fi.dport if _has_tuple(fi) else None
    if fi.type in SERVSOCK_TYPES:
        return fi.sport
    return None


def _src_is_local(fi: FdInfo, evt: Any) -> bool:
    """Which end is this machine's: the client end when its address is local, else the server's."""
    return _is_local(fi.sip, evt.thread)


def _lip(fi: FdInfo, evt: Any) -> str | None:
    if fi.type not in _CONN or not _has_tuple(fi):
        return None
    return ip_text(fi.sip if _src_is_local(fi, evt) else fi.dip)


def _rip(fi: FdInfo, evt: Any) -> str | None:
    if fi.type not in _CONN or not _has_tuple(fi):
        return None
    return ip_text(fi.dip if _src_is_local(fi, evt) else fi.sip)


def _lport(fi: FdInfo, evt: Any) -> int | None:
    if fi.type not in _CONN or not _has_tuple(fi):
        return None
    return fi.sport if _src_is_local(fi, evt) else fi.dport


def _rport(fi: FdInfo, evt: Any) -> int | None:
    if fi.type not in _CONN or not _has_tuple(fi):
        return None
    return fi.dport if _src_is_local(fi, evt) else fi.sport


def _either_ip(fi: FdInfo) -> tuple[str, ...] | None:
    """fd.ip / fd.net (filter only): either end; a destination known from a connect enter counts
    before the tuple is complete, as in libsinsp."""
    if fi.type in _CONN:
        vals = tuple(ip_text(x) for x in (fi.sip, fi.dip) if any(x))
    elif fi.type in SERVSOCK_TYPES:
        vals = (ip_text(fi.sip),) if fi.sip else ()
    else:
        return None
    return vals or None


def _either_port(fi: FdInfo) -> tuple[int, ...] | None:
    if fi.type in _CONN:
        vals = tuple(p for p in (fi.sport, fi.dport) if p)
    elif fi.type in SERVSOCK_TYPES:
        vals = (fi.sport,)
    else:
        return None
    return vals or None


def _service(port: int | None, fi: FdInfo) -> str | None:
    """fd.*proto: libsinsp resolves port names only with hostname/port resolution enabled, which
    Falco and sysdig leave off: the port number as text. (Listening and unix sockets: see below.)"""
    if fi.type not in _CONN:
        return None
    return None if port is None else str(port)


def _cproto(fi: FdInfo) -> str | None:
    if fi.type in SERVSOCK_TYPES or fi.type == R.FD_UNIX_SOCK:
        return "" if _has_tuple(fi) else None  # libsinsp prints an empty name there
    return _service(_cport(fi), fi)


def _sproto(fi: FdInfo) -> str | None:
    if fi.type in SERVSOCK_TYPES:
        return ""
    return _service(_sport(fi), fi)


def _l4proto(fi: FdInfo) -> str | None:
    if fi.type == R.FD_UNKNOWN:
        return "<NA>"  # e.g. an AF_PACKET socket, as current libsinsp prints it
    # libsinsp shows the protocol of sockets with an address only
    if fi.type not in IP_TYPES or not _has_tuple(fi):
        return None
    return L4_NAMES.get(fi.l4proto, "<unknown>")


def _sockfamily(fi: FdInfo) -> str | None:
    if fi.type in IP_TYPES:
        return "ip"
    if fi.type == R.FD_UNIX_SOCK:
        return "unix"
    return None


def _is_server(fi: FdInfo, evt: Any) -> bool | None:
    """libsinsp: a listening socket, or a socket whose server address is this machine's."""
    if fi.type in SERVSOCK_TYPES:
        return True
    if fi.type in _CONN:
        return _is_local(fi.dip, evt.thread)
    return False


def _connected(fi: FdInfo) -> bool:
    """Current libsinsp: connect()ed or accept()ed. (2022 also counted a UDP socket that sent or
    received a datagram; the official rules rely on the current meaning.)"""
    return fi.type in (R.FD_IPV4_SOCK, R.FD_IPV6_SOCK, R.FD_UNIX_SOCK) and fi.connected


def _fdnum(_arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        return None if evt.thread is None else evt.fd
    return fn


def _fduid(_arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        th = evt.thread
        if th is None or evt.fd is None:
            return None
        return f"{th.tid}{evt.fd}"
    return fn


def _fdtypes(arg: str | None) -> Extractor:
    if arg is None or arg == "":
        def all_fn(evt: Any) -> Any:
            th = evt.thread
            if th is None:
                return None
            seen: dict[str, None] = {}
            for fi in th.fdtable.fds.values():
                seen.setdefault(fi.typestring)
            return tuple(seen)
        return all_fn
    num = int(arg)

    def one(evt: Any) -> Any:
        th = evt.thread
        fi = th.fdtable.fds.get(num) if th is not None else None
        return None if fi is None else (fi.typestring,)
    return one


def _name_changed(_arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        if evt.fdinfo is None:
            return None
        c = evt.cache
        return bool(c and c.get("fd.name_changed"))
    return fn


def _container_join(get: Callable[[Any], Any]) -> Callable[[str | None], Extractor]:
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            th = evt.thread
            if th is None or evt.fd is None:
                return None
            v = get(evt)
            # libsinsp keeps an empty container id for host threads
            cid = "" if th.container_id == HOST else th.container_id
            return None if v is None else f"{cid}:{v}"
        return fn
    return factory


def _name_of(evt: Any) -> Any:
    fi = evt.fdinfo
    return fi.name if fi is not None else _null_fd_name(evt)


def _dir_of(evt: Any) -> Any:
    fi = evt.fdinfo
    if fi is not None:
        return _directory(fi)
    n = _null_fd_name(evt)
    return None if n is None else _dirname(n)


# --- fdlist (poll) --------------------------------------------------------------------------

def _fdlist(get: Callable[[int, FdInfo | None], str | None]) -> Callable[[str | None], Extractor]:
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            if evt.name not in ("poll", "ppoll"):
                return None
            th = evt.thread
            if th is None:
                return None
            fds = P.get(evt, "fds")
            if not isinstance(fds, list):
                return None
            out = []
            for fd, _flags in fds:
                v = get(fd, th.fdtable.fds.get(fd))
                if v is not None:
                    out.append(v)
            return ",".join(out) if out else None
        return fn
    return factory


def _opt(f: Callable[[FdInfo], Any]) -> Callable[[int, FdInfo | None], str | None]:
    def get(_fd: int, fi: FdInfo | None) -> str | None:
        if fi is None:
            return None
        v = f(fi)
        return None if v is None else str(v)
    return get


# --- fs.path --------------------------------------------------------------------------------

# event name -> (param for name, param for source, param for target); "fd.name" = the event's fd
_FSPATH: dict[str, tuple[str | None, str | None, str | None]] = {
    "mkdir": ("path", None, None), "mkdirat": ("path", None, None), "rmdir": ("path", None, None),
    "unlink": ("path", None, None), "unlinkat": ("name", None, None),
    "open": ("name", None, None), "openat": ("name", None, None), "openat2": ("name", None, None),
    "fchmodat": ("filename", None, None), "chmod": ("filename", None, None),
    "fchmod": ("fd.name", None, None), "chown": ("path", None, None), "lchown": ("path", None, None),
    "fchown": ("fd.name", None, None), "fchownat": ("pathname", None, None),
    "quotactl": ("special", None, None),
    "rename": (None, "oldpath", "newpath"), "renameat": (None, "oldpath", "newpath"),
    "renameat2": (None, "oldpath", "newpath"),
    "link": (None, "newpath", "oldpath"), "linkat": (None, "newpath", "oldpath"),
    "symlink": (None, "linkpath", "target"), "symlinkat": (None, "linkpath", "target"),
    "mount": (None, "dev", "dir"), "umount": ("name", None, None), "umount2": ("name", None, None),
}
_FD_SUCCESS = frozenset({"open", "openat", "openat2"})


def _fspath(which: int, resolve: bool) -> Callable[[str | None], Extractor]:
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            if not evt.is_exit:
                return None
            spec = _FSPATH.get(evt.name)
            if spec is None:
                return None
            pname = spec[which]
            if pname is None:
                return None
            th = evt.thread
            if evt.name in _FD_SUCCESS:
                fd = P.get_int(evt, "fd")
                if fd is None or fd == -1:
                    return None
            else:
                res = P.get_int(evt, "res")
                if res != 0:
                    return None
            if pname == "fd.name":
                fi = evt.fdinfo
                v = fi.name if fi is not None else None
            else:
                v = P.get_str(evt, pname)
                if v is None and th is not None:
                    enter = enter_of(evt, th)
                    v = P.get_str(enter, pname) if enter is not None else None
            if v is None:
                return None
            if resolve and not v.startswith("/"):
                if th is None or th.invalid:
                    return None
                v = posixpath.normpath(th.get_cwd() + v)
            return v
        return fn
    return factory


def _abspath(arg: str | None) -> Extractor:
    """evt.abspath[.src|.dst]: a *at syscall's path resolved against its dirfd (exits)."""
    which = arg or ""

    def fn(evt: Any) -> Any:
        if not evt.is_exit:
            return None
        th = evt.thread
        if th is None or th.invalid:
            return None
        name = evt.name
        if name in ("renameat", "renameat2", "linkat"):
            pairs = {"": ("olddirfd", "oldpath"), "src": ("olddirfd", "oldpath"),
                     "dst": ("newdirfd", "newpath")}
            if name == "linkat":
                pairs = {"": ("olddir", "oldpath"), "src": ("olddir", "oldpath"),
                         "dst": ("newdir", "newpath")}
            dp = pairs.get(which)
        elif name == "symlinkat":
            dp = ("linkdirfd", "linkpath") if which in ("", "dst") else None
            if which == "src":
                t = P.get_str(evt, "target")
                return t
        elif name in ("unlinkat",):
            dp = ("dirfd", "name")
        elif name in ("mkdirat",):
            dp = ("dirfd", "path")
        elif name in ("openat", "openat2", "fchmodat"):
            dp = ("dirfd", "filename" if name == "fchmodat" else "name")
        else:
            return None
        if dp is None:
            return None
        path = P.get_str(evt, dp[1])
        if path is None:
            return None
        dirfd = P.get_int(evt, dp[0])
        return _resolve_at(th, AT_FDCWD if dirfd is None else dirfd, path)
    return fn


# The fields most rules read, as single functions (no per-field wrapper around a getter).

def _fd_name(evt: Any) -> Any:
    fi = evt.fdinfo
    if fi is not None:
        return fi.name
    return None if evt.fd is None or evt.thread is None else _null_fd_name(evt)


def _fd_typechar(evt: Any) -> Any:
    fi = evt.fdinfo
    if fi is not None:
        return TYPE_CHAR.get(fi.type, "o")
    return None if evt.fd is None or evt.thread is None else _NULL_TYPECHAR.get(evt.name, "o")


def _fd_directory(evt: Any) -> Any:
    fi = evt.fdinfo
    if fi is not None:
        t = fi.type
        if t == R.FD_DIRECTORY:
            return fi.name
        if t not in FILE_TYPES:
            return None
        name = fi.name
        pos = name.rfind("/")
        if pos > 0:
            return name[:pos] if pos < len(name) - 1 else name
        return "/"
    if evt.fd is None or evt.thread is None:
        return None
    n = _null_fd_name(evt)
    return None if n is None else _dirname(n)


def _fd_filename(evt: Any) -> Any:
    fi = evt.fdinfo
    if fi is None or (fi.type != R.FD_FILE and fi.type != R.FD_FILE_V2):
        return None
    name = fi.name
    pos = name.rfind("/")
    return name[pos + 1:] if 0 <= pos < len(name) - 1 else None


def _register() -> None:
    implement("fd.num", _fdnum)
    _fd("fd.type", lambda fi: TYPE_STRING.get(fi.type, "<NA>"))
    implement("fd.typechar", fixed(_fd_typechar))
    implement("fd.name", fixed(_fd_name))
    implement("fd.directory", fixed(_fd_directory))
    implement("fd.filename", fixed(_fd_filename))
    _fd("fd.ip", _either_ip)
    _fd("fd.cip", _cip)
    _fd("fd.sip", _sip)
    _fd2("fd.lip", _lip)
    _fd2("fd.rip", _rip)
    _fd("fd.port", _either_port)
    _fd("fd.cport", _cport)
    _fd("fd.sport", _sport)
    _fd2("fd.lport", _lport)
    _fd2("fd.rport", _rport)
    _fd("fd.l4proto", _l4proto)
    _fd("fd.cproto", _cproto)
    _fd("fd.sproto", _sproto)
    _fd2("fd.lproto", lambda fi, evt: _service(_lport(fi, evt), fi))
    _fd2("fd.rproto", lambda fi, evt: _service(_rport(fi, evt), fi))
    _fd("fd.sockfamily", _sockfamily)
    _fd2("fd.is_server", _is_server)
    implement("fd.uid", _fduid)
    implement("fd.containername", _container_join(_name_of))
    implement("fd.containerdirectory", _container_join(_dir_of))
    _fd("fd.net", _either_ip)
    _fd("fd.cnet", _cip)
    _fd("fd.snet", _sip)
    _fd2("fd.lnet", _lip)
    _fd2("fd.rnet", _rip)
    _fd("fd.connected", _connected)
    implement("fd.name_changed", _name_changed)
    _fd("fd.dev", lambda fi: fi.dev if fi.type in FILE_TYPES else None)
    _fd("fd.dev.major", lambda fi: (fi.dev >> 20) if fi.type in FILE_TYPES else None)
    _fd("fd.dev.minor", lambda fi: (fi.dev & 0xFFFFF) if fi.type in FILE_TYPES else None)
    _fd("fd.ino", lambda fi: fi.ino)
    _fd("fd.nameraw", lambda fi: fi.nameraw or fi.name,
        lambda evt: _null_fd_name(evt, raw=True))
    implement("fd.types", _fdtypes)

    implement("fdlist.nums", _fdlist(lambda fd, _fi: str(fd)))
    implement("fdlist.names", _fdlist(lambda _fd, fi: fi.name if fi is not None and fi.name else "<NA>"))
    implement("fdlist.cips", _fdlist(_opt(_cip)))
    implement("fdlist.sips", _fdlist(_opt(_sip)))
    implement("fdlist.cports", _fdlist(_opt(_cport)))
    implement("fdlist.sports", _fdlist(_opt(_sport)))

    implement("fs.path.name", _fspath(0, True))
    implement("fs.path.nameraw", _fspath(0, False))
    implement("fs.path.source", _fspath(1, True))
    implement("fs.path.sourceraw", _fspath(1, False))
    implement("fs.path.target", _fspath(2, True))
    implement("fs.path.targetraw", _fspath(2, False))
    implement("evt.abspath", _abspath)


_register()
