"""`tercel` live: prctl(PR_SET_NAME) is not state for libsinsp. A process that renames itself keeps
its proc.name in alerts (Falco's comm changes on clone/execve only), and a child it forks afterwards
carries the new name (the kernel's comm at clone time)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import tercel_live as tl

pytestmark = pytest.mark.live

NEW_NAME = "tcl-renamed"
PROGRAM = f"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(15, b"{NEW_NAME}", 0, 0, 0) == 0  # PR_SET_NAME
assert libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
open(sys.argv[1]).close()
pid = os.fork()
if pid == 0:
    open(sys.argv[2]).close()
    os._exit(0)
os.waitpid(pid, 0)
print(os.getpid(), pid)
"""


@pytest.fixture(scope="module")
def tercel(live_ok: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tl.Tercel]:
    tmp = tmp_path_factory.mktemp("tercel-live-prctl")
    t = tl.Tercel(["-c", str(tl.write_config(tmp)), "-r", str(tl.write_test_rules(tmp)),
                   "-o", "json_output=true", "-U"])
    try:
        t.wait_ready()
        yield t
    finally:
        rc = t.stop()
        assert rc == 0, t.stderr()


def test_prctl_set_name_keeps_proc_name_child_gets_it(tercel: tl.Tercel) -> None:
    tag = uuid.uuid4().hex
    paths = [Path(tl.CANARY_DIR) / f"{tl.CANARY_PREFIX}prctl-{tag}-{i}" for i in (1, 2)]
    for p in paths:
        p.write_text("x")
    try:
        r = subprocess.run([sys.executable, "-c", PROGRAM, *map(str, paths)], capture_output=True,
                           text=True, timeout=20, check=True)
        pid, child = map(int, r.stdout.split())
        rule = "Tercel live canary"
        own = tercel.wait_alert(rule, proc__pid=pid, fd__name=str(paths[0]))["output_fields"]
        forked = tercel.wait_alert(rule, proc__pid=child, fd__name=str(paths[1]))["output_fields"]
        assert own["proc.name"] != NEW_NAME and own["proc.name"].startswith("python")
        assert forked["proc.name"] == NEW_NAME and forked["proc.ppid"] == pid
    finally:
        for p in paths:
            p.unlink(missing_ok=True)


def test_live_child_subreaper_state(live_ok: None) -> None:
    """The kernel's prctl exits reach the state engine: PR_SET_CHILD_SUBREAPER marks the process,
    PR_GET_CHILD_SUBREAPER carries the value read back (not the pointer) and so keeps it."""
    import time

    from tercel.capture.live import LiveSource
    from tercel.driver.errors import DriverError
    from tercel.driver.interest import STATE_SYSCALLS
    from tercel.state.inspector import Inspector

    src = LiveSource(set(STATE_SYSCALLS), poll_interval=0.01)
    try:
        src.open()
    except DriverError as exc:
        pytest.skip(f"eBPF unavailable here: {exc}")
    program = ("import ctypes, sys\nlibc = ctypes.CDLL(None)\nv = ctypes.c_int(7)\n"
               "assert libc.prctl(36, 1, 0, 0, 0) == 0\n"
               "assert libc.prctl(37, ctypes.byref(v), 0, 0, 0) == 0 and v.value == 1\n"
               "sys.stdin.readline()\n")
    try:
        insp = Inspector(src.initial)
        proc = subprocess.Popen([sys.executable, "-c", program], stdin=subprocess.PIPE, text=True)
        seen: list[tuple[int, int | None]] = []
        try:
            end = time.monotonic() + 10
            while time.monotonic() < end and len(seen) < 2:
                for buf, off, cpu, flags in src.events(0.1):
                    evt = insp.process(buf, off, cpu, flags)
                    if evt is not None and evt.tid == proc.pid and evt.type == 401:
                        seen.append((evt.param_named("option"), evt.param_named("arg2_int")))
            th = insp.threads.get(proc.pid)
            assert seen == [(36, 1), (37, 1)], seen
            assert th is not None and th.child_subreaper
        finally:
            proc.communicate("\n", timeout=10)
    finally:
        src.close()
