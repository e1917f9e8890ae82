"""Users and groups read from a container's root filesystem, which the container controls: its
passwd/group may be a FIFO, a device or huge, and reading them must neither block nor exhaust memory."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tercel.state.users import UserTable


def _from_etc_within(root: Path, seconds: float = 5.0) -> UserTable:
    out: list[UserTable] = []
    t = threading.Thread(target=lambda: out.append(UserTable.from_etc(root)), daemon=True)
    t.start()
    t.join(seconds)
    assert out, f"UserTable.from_etc({root}) did not return within {seconds} s"
    return out[0]


def test_regular_files(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("# comment\nroot:x:0:0:root:/root:/bin/bash\nbad:line\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\n")
    t = _from_etc_within(tmp_path)
    u = t.users[0]
    assert (u.name, u.homedir, u.shell) == ("root", "/root", "/bin/bash")
    assert t.groups[0].name == "root"


def test_fifo_passwd_does_not_block(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.mkfifo(tmp_path / "etc" / "passwd")  # nobody ever writes: a plain open() would wait forever
    (tmp_path / "etc" / "group").write_text("root:x:0:\n")
    t = _from_etc_within(tmp_path)
    assert t.users == {} and t.groups[0].name == "root"


def test_passwd_pointing_at_an_endless_device(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").symlink_to("/dev/zero")
    t = _from_etc_within(tmp_path)
    assert t.users == {}


def test_huge_passwd_is_read_up_to_the_limit(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    with open(tmp_path / "etc" / "passwd", "wb") as fh:
        fh.write(b"root:x:0:0:root:/root:/bin/sh\n")
        fh.truncate(1 << 36)  # 64 GiB, sparse: reading it whole would take minutes and all memory
    t = _from_etc_within(tmp_path)
    assert t.users[0].name == "root"
