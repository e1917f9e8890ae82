"""BPF that cannot load gives one clear line naming the missing piece (the CLI exits 1 with it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tercel.driver import loader
from tercel.driver.errors import DriverError
from tercel.driver.interest import PROCEXIT, STATE_SYSCALLS, select_syscalls

PROBE = (
    "import sys\n"
    "from tercel.driver.loader import Driver\n"
    "from tercel.driver.errors import DriverError\n"
    "try:\n"
    "    Driver().open(['openat'])\n"
    "except DriverError as exc:\n"
    "    print(exc); sys.exit(1)\n"
    "print('loaded')\n"
)


def _run_unprivileged() -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", PROBE]
    if os.geteuid() != 0:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    # as root: drop every capability (uid 0 without caps is what a locked-down container gets)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) not installed: cannot run without capabilities")
    return subprocess.run([setpriv, "--bounding-set", "-all", "--inh-caps", "-all", *cmd],
                          capture_output=True, text=True, timeout=30)


def test_missing_privileges_give_one_line_naming_capabilities() -> None:
    r = _run_unprivileged()
    assert r.returncode == 1, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "CAP_BPF" in lines[0] and "root" in lines[0]
    assert "Traceback" not in r.stderr


def test_missing_btf_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the privilege check comes first when not root")
    monkeypatch.setattr(loader, "BTF_PATH", tmp_path / "no-vmlinux")
    with pytest.raises(DriverError, match="BTF"):
        loader.preflight()


def test_missing_object_is_named(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the privilege check comes first when not root")
    with pytest.raises(DriverError, match="not built"):
        loader.Driver(obj_path=tmp_path / "absent.bpf.o").open([])


def test_base_syscalls_semantics() -> None:
    rules = {"openat", "connect"}
    default = select_syscalls(rules)
    assert rules <= default and STATE_SYSCALLS - {"open_by_handle_at"} <= default | {"open_by_handle_at"}
    custom = select_syscalls(rules, ["setsid", "!connect"])
    assert custom == {"openat", "setsid"}
    repaired = select_syscalls(rules, repair=True)
    assert {"openat", "connect", "clone", "execve", "close", PROCEXIT} <= repaired
    assert "sendmsg" not in repaired and "epoll_create" not in repaired
    assert "read" in select_syscalls(rules, all_syscalls=True)
    assert "read" in select_syscalls(None)
