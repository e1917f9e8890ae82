"""The state side of rendering: fd labels, thread names and path resolution for ``render``."""

from __future__ import annotations

from typing import Any

from tercel.capture import records as R
from tercel.state import inspector as I
from tercel.state.fdinfo import IP_TYPES, FdInfo
from tercel.state.params import AT_FDCWD
from tercel.state.parsers import _resolve_at

_L4_CHARS = {R.L4_TCP: "t", R.L4_UDP: "u", R.L4_ICMP: "i", R.L4_RAW: "r"}


def l4char(fi: FdInfo) -> str:
    """The protocol letter sysdig shows in fd labels (``<4t>``), once the socket has an address."""
    if fi.type in IP_TYPES and (fi.sip or fi.sport):
        return _L4_CHARS.get(fi.l4proto, "")
    return ""


class StateContext:
    """A ``render.RenderContext`` reading the inspector's tables."""

    __slots__ = ()

    def fd_label(self, evt: Any, fd: int) -> str | None:
        th = evt.thread
        if th is None:
            return None
        fi = th.fdtable.fds.get(fd)
        if fi is None:
            return None
        return f"<{fi.typechar}{l4char(fi)}>{fi.name}"

    def fd_typechar(self, evt: Any, fd: int) -> str | None:
        th = evt.thread
        fi = th.fdtable.fds.get(fd) if th is not None else None
        return None if fi is None else fi.typechar

    def comm_of(self, tid: int) -> str | None:
        insp = I.current()
        th = insp.threads.get(tid) if insp is not None else None
        return None if th is None else th.comm

    def resolve_path(self, evt: Any, path: str, dirfd: int | None) -> str | None:
        th = evt.thread
        if th is None:
            return None
        return _resolve_at(th, AT_FDCWD if dirfd is None else dirfd, path)


STATE_CONTEXT = StateContext()
