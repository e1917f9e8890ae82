"""Users and groups: from the capture's user list, or from passwd/group files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tercel.capture.records import GroupRecord, UserRecord

MAX_ENTRIES = 65536  # a hostile user list cannot grow the table beyond this


MAX_CONTAINERS = 4096


class UserTable:
    """uid -> user and gid -> group of the host, plus per-container tables (newest captures
    announce container users with USER_ADDED events carrying a container id)."""

    __slots__ = ("containers", "groups", "users")

    def __init__(self, users: list[UserRecord] | None = None,
                 groups: list[GroupRecord] | None = None) -> None:
        self.users: dict[int, UserRecord] = {}
        self.groups: dict[int, GroupRecord] = {}
        self.containers: dict[str, UserTable] = {}
        for u in users or ():
            self.add_user(u)
        for g in groups or ():
            self.add_group(g)

    def add_user(self, u: UserRecord) -> None:
        if u.uid in self.users or len(self.users) < MAX_ENTRIES:
            self.users[u.uid] = u

    def add_group(self, g: GroupRecord) -> None:
        if g.gid in self.groups or len(self.groups) < MAX_ENTRIES:
            self.groups[g.gid] = g

    def user(self, uid: int) -> UserRecord | None:
        return self.users.get(uid)

    def container(self, cid: str, create: bool = False) -> UserTable | None:
        """The user table of a container ("" or "host" is this table itself)."""
        if not cid or cid == "host":
            return self
        t = self.containers.get(cid)
        if t is None and create and len(self.containers) < MAX_CONTAINERS:
            t = self.containers[cid] = UserTable()
        return t

    def load_container(self, cid: str, root: str | Path) -> None:
        """Live monitoring: a container's users come from its own root filesystem (read once)."""
        if cid in self.containers or len(self.containers) >= MAX_CONTAINERS:
            return
        self.containers[cid] = UserTable.from_etc(root)

    def lookup_user(self, uid: int, cid: str) -> UserRecord | None:
        """A container's own user first, then the host's."""
        if cid and cid != "host":
            t = self.containers.get(cid)
            if t is not None:
                u = t.users.get(uid)
                if u is not None:
                    return u
        return self.users.get(uid)

    def lookup_group(self, gid: int, cid: str) -> GroupRecord | None:
        if cid and cid != "host":
            t = self.containers.get(cid)
            if t is not None:
                g = t.groups.get(gid)
                if g is not None:
                    return g
        return self.groups.get(gid)

    def group(self, gid: int) -> GroupRecord | None:
        return self.groups.get(gid)

    @classmethod
    def from_etc(cls, root: str | Path = "/") -> UserTable:
        """Read ``<root>/etc/passwd`` and ``<root>/etc/group`` (missing files give empty tables)."""
        table = cls()
        base = Path(root) / "etc"
        for line in _lines(base / "passwd"):
            f = line.split(":")
            if len(f) >= 7 and f[2].isdigit() and f[3].isdigit():
                table.add_user(UserRecord(int(f[2]), int(f[3]), f[0], f[5], f[6]))
        for line in _lines(base / "group"):
            f = line.split(":")
            if len(f) >= 3 and f[2].isdigit():
                table.add_group(GroupRecord(int(f[2]), f[0]))
        return table


MAX_FILE_BYTES = 16 << 20


def _lines(path: Path) -> list[str]:
    """The lines of a passwd/group file. A container controls its own: a FIFO or a device there
    reads as empty (O_NONBLOCK: opening a FIFO does not wait for a writer), and only the first
    MAX_FILE_BYTES of a regular file are read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return []
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_FILE_BYTES)
    except OSError:
        return []
    finally:
        os.close(fd)
    return [ln for ln in data.decode("utf-8", "surrogateescape").splitlines()
            if ln and not ln.startswith("#")]
