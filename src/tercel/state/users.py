"""Users and groups: from the capture's user list, or from passwd/group files."""

from __future__ import annotations

from pathlib import Path

from tercel.capture.records import GroupRecord, UserRecord

MAX_ENTRIES = 65536  # a hostile user list cannot grow the table beyond this


class UserTable:
    __slots__ = ("groups", "users")

    def __init__(self, users: list[UserRecord] | None = None,
                 groups: list[GroupRecord] | None = None) -> None:
        self.users: dict[int, UserRecord] = {}
        self.groups: dict[int, GroupRecord] = {}
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


def _lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()[: 16 << 20]
    except OSError:
        return []
    return [ln for ln in data.decode("utf-8", "surrogateescape").splitlines()
            if ln and not ln.startswith("#")]
