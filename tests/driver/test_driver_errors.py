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


def test_loads_with_only_bpf_perfmon_ptrace_dac_caps() -> None:
    """Full root is not needed: CAP_BPF + CAP_PERFMON (+ SYS_PTRACE, DAC_READ_SEARCH for /proc) suffice."""
    if os.geteuid() != 0:
        pytest.skip("needs root to hand out the capabilities")
    if not loader.DEFAULT_OBJECT.is_file() or not loader.BTF_PATH.exists():
        pytest.skip("BPF object not built or no kernel BTF")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) not installed")
    code = (
        "import subprocess\n"
        "from tercel.capture.live import LiveSource\n"
        "from tercel.driver.errors import DriverError\n"
        "caps = int(open('/proc/self/status').read().split('CapEff:')[1].split()[0], 16)\n"
        "assert not caps & (1 << 21), 'CAP_SYS_ADMIN still present'\n"
        "try:\n"
        "    s = LiveSource(['execve']).open()\n"
        "except DriverError as exc:\n"
        "    print('ERR', exc); raise SystemExit(1)\n"
        "p = subprocess.run(['/bin/true', 'minimal-caps'])\n"
        "ok = any(b'minimal-caps' in buf[off:off + 4096] for buf, off, cpu, fl in s.events(2.0))\n"
        "s.close()\n"
        "print('OK' if ok and len(s.initial.procs) > 1 else 'NOEVENT')\n"
    )
    r = subprocess.run([setpriv, "--bounding-set", "-all,+bpf,+perfmon,+sys_ptrace,+dac_read_search",
                        "--inh-caps", "-all", sys.executable, "-c", code],
                       capture_output=True, text=True, timeout=60)
    if "ERR" in r.stdout and "EPERM" in r.stdout:
        pytest.skip(f"this kernel wants more than CAP_BPF+CAP_PERFMON: {r.stdout.strip()}")
    assert r.stdout.strip().endswith("OK"), (r.stdout, r.stderr[-1000:])


def test_user_namespace_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    uid_map = tmp_path / "uid_map"
    monkeypatch.setattr(loader, "UID_MAP_PATH", uid_map)
    uid_map.write_text("         0          0 4294967295\n")
    assert not loader._in_user_namespace()
    uid_map.write_text("         0       1000          1\n")
    assert loader._in_user_namespace()
    if os.geteuid() == 0:
        with pytest.raises(DriverError, match="user namespace"):
            loader.preflight()
