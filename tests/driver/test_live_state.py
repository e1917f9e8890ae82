"""Live events + the /proc scan feed the state engine: a process started before the source opened is
attributed correctly when it later opens a file (name, parent, user, fd name)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from driver_live import EXTRA, live_skip_reason

from tercel.capture.live import LiveSource
from tercel.driver.errors import DriverError
from tercel.driver.interest import STATE_SYSCALLS
from tercel.driver.loader import HANDLERS

pytestmark = pytest.mark.live


def test_preexisting_process_is_attributed(tmp_path: Path) -> None:
    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
    from tercel.state.inspector import Inspector

    target = tmp_path / "secret.txt"
    target.write_text("s")
    # started (and its fd 3 opened) before tercel starts
    child = subprocess.Popen([sys.executable, "-c",
                              "import sys, os; f = open(sys.argv[1]); sys.stdin.readline(); "
                              "os.dup2(f.fileno(), 50); open(sys.argv[1]).read(); os.chdir('/')",
                              str(target)], stdin=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        time.sleep(0.3)
        src = LiveSource(set(HANDLERS) | STATE_SYSCALLS | EXTRA, poll_interval=0.01)
        try:
            src.open()
        except DriverError as exc:
            pytest.skip(f"eBPF unavailable here: {exc}")
        try:
            insp = Inspector(src.initial)
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
            child.wait(10)
            found: dict[int, tuple[object, ...]] = {}
            end = time.monotonic() + 5
            while time.monotonic() < end and not {307, 363, 95} <= found.keys():  # open, dup2, chdir
                for buf, off, cpu, flags in src.events(0.1):
                    evt = insp.process(buf, off, cpu, flags)
                    if evt.tid == child.pid and evt.type in (307, 363, 95) and evt.type not in found:
                        th = evt.thread
                        fdi = evt.fdinfo
                        found[evt.type] = (th, th.comm, th.ptid, th.exepath, th.cwd, fdi.name if fdi else None,
                                           th.fdtable.get(50))
        finally:
            src.close()
        assert {307, 363, 95} <= found.keys(), found
        th, comm, ptid, exepath, cwd, fdname, _ = found[307]  # type: ignore[misc]
        assert th is not None and not th.invalid
        assert comm.startswith("python")
        assert ptid == os.getpid()
        assert exepath == os.path.realpath(sys.executable)
        assert cwd.rstrip("/") == str(tmp_path)
        assert fdname == str(target)
        # the dup2 source fd came from the /proc scan: fd 50 gets its name
        dup_fd50 = found[363][6]  # type: ignore[index]
        assert dup_fd50 is not None and dup_fd50.name == str(target)
        assert insp.users.user(th.uid) is not None
    finally:
        child.kill()
        child.wait()
