"""More syscalls with their decoded exit parameters, and drops counted when the ring is full."""

from __future__ import annotations

from pathlib import Path

import pytest
from driver_live import EXTRA, Live, live_skip_reason, run_py

from tercel.capture.live import LiveSource
from tercel.driver.errors import DriverError

pytestmark = pytest.mark.live

CHILD = r"""
import ctypes, os, signal, socket, sys
d = sys.argv[1]
print(os.getpid(), flush=True)
os.mkdir(d + '/a', 0o750); os.rename(d + '/a', d + '/b'); os.rmdir(d + '/b')
open(d + '/f', 'w').close(); os.chmod(d + '/f', 0o4755); os.unlink(d + '/f')
os.chdir(d); fd = os.open(d, os.O_RDONLY); os.fchdir(fd)
os.setresuid(0, 0, 0); os.setgid(0)
libc = ctypes.CDLL(None, use_errno=True)
assert libc.unshare(0x04000000) == 0  # CLONE_NEWUTS
os.kill(os.getpid(), 0)
libc.prctl(15, b'tercel-name', 0, 0, 0)
r, w = os.pipe2(os.O_CLOEXEC)
l = socket.socket(socket.AF_INET6); l.bind(('::1', 0)); l.listen(3)
c = socket.socket(socket.AF_INET6); c.connect(l.getsockname()); a, _ = l.accept()
print(l.getsockname()[1], c.getsockname()[1], flush=True)
"""

# event code -> parameter checks (name, expected) filled in the test
MKDIR_X, RENAME_X, RMDIR_X, CHMOD_X, UNLINK_X, CHDIR_X, FCHDIR_X = 277, 175, 279, 315, 301, 95, 97
SETRESUID_X, SETGID_X, UNSHARE_X, KILL_X, PRCTL_X, PIPE2_X, LISTEN_X, CONNECT_X = 193, 201, 285, 129, 401, 393, 25, 23
PPM_CL_CLONE_NEWUTS = 1 << 7


def test_file_cred_ns_signal_prctl_pipe_ipv6(live: Live, tmp_path: Path) -> None:
    r = run_py(CHILD, str(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    pid = int(lines[0])
    lport, cport = (int(x) for x in lines[1].split())
    want = {MKDIR_X, RENAME_X, RMDIR_X, CHMOD_X, UNLINK_X, CHDIR_X, FCHDIR_X, SETRESUID_X, SETGID_X,
            UNSHARE_X, KILL_X, PRCTL_X, PIPE2_X, LISTEN_X, CONNECT_X}
    evs = live.gather(lambda e: e.tid == pid and e.type in want, lambda got: {e.type for e in got} >= want)
    by = {}
    for e in evs:
        by.setdefault(e.type, e)
    d = str(tmp_path)
    assert by[MKDIR_X].param_named("path") == d + "/a" and by[MKDIR_X].param_named("mode") == 0o750
    assert (by[RENAME_X].param_named("oldpath"), by[RENAME_X].param_named("newpath")) == (d + "/a", d + "/b")
    assert by[RMDIR_X].param_named("path") == d + "/b"
    assert by[CHMOD_X].param_named("filename") == d + "/f" and by[CHMOD_X].param_named("mode") == 0o4755
    assert by[UNLINK_X].param_named("path") == d + "/f"
    assert by[CHDIR_X].param_named("path") == d and by[CHDIR_X].param_named("res") == 0
    assert by[FCHDIR_X].param_named("res") == 0 and by[FCHDIR_X].param_named("fd") >= 3
    assert [by[SETRESUID_X].param(i) for i in range(4)] == [0, 0, 0, 0]
    assert by[SETGID_X].param_named("gid") == 0
    assert by[UNSHARE_X].param_named("flags") == PPM_CL_CLONE_NEWUTS
    assert by[KILL_X].param_named("pid") == pid and by[KILL_X].param_named("sig") == 0
    assert by[PRCTL_X].param_named("option") == 15 and by[PRCTL_X].param_named("arg2_str") == "tercel-name"
    p2 = by[PIPE2_X]
    assert p2.param_named("res") == 0 and p2.param_named("fd1") >= 3 and p2.param_named("ino") > 0
    assert p2.param_named("flags") == 1 << 12  # PPM_O_CLOEXEC
    assert by[LISTEN_X].param_named("backlog") == 3
    conn = by[CONNECT_X]
    assert conn.param_named("tuple") == (10, "::1", cport, "::1", lport)
    assert conn.param_named("addr") == (10, "::1", lport)


def test_full_ring_drops_are_counted() -> None:
    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
    src = LiveSource({"openat", "close"} | EXTRA, ring_bytes=64 << 10, scan_proc=False)
    try:
        src.open()
    except DriverError as exc:
        pytest.skip(f"eBPF unavailable here: {exc}")
    try:
        # nobody consumes while 20k open+close run: a 64 KiB ring must overflow
        r = run_py("import os\nfor _ in range(20000): os.close(os.open('/dev/null', os.O_RDONLY))")
        assert r.returncode == 0, r.stderr
        c = src.counters()
        assert c.dropped > 0 and c.dropped == sum(c.dropped_per_cpu)
        # the ring still works after overflowing
        got = 0
        for _ in range(50):
            chunk, offs = src.poll(0.01)
            got += len(offs)
            if not offs:
                break
        assert got > 0
    finally:
        src.close()




def test_iteration_ends_when_closed_from_another_thread() -> None:
    import threading
    import time

    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
    src = LiveSource({"openat", "close"}, scan_proc=False)
    try:
        src.open()
    except DriverError as exc:
        pytest.skip(f"eBPF unavailable here: {exc}")
    seen = []
    t = threading.Thread(target=lambda: seen.extend(1 for _ in src), daemon=True)
    t.start()
    run_py("import os\nfor _ in range(100): os.close(os.open('/dev/null', os.O_RDONLY))")
    time.sleep(0.2)
    src.close()
    t.join(2)
    assert not t.is_alive()
    assert len(seen) >= 200


def test_snaplen_copies_the_first_payload_bytes() -> None:
    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
    src = LiveSource({"sendto"}, snaplen=8, scan_proc=False, poll_interval=0.01)
    try:
        src.open()
    except DriverError as exc:
        pytest.skip(f"eBPF unavailable here: {exc}")
    try:
        from driver_live import Live

        live = Live(src)
        r = run_py("import os, socket\nprint(os.getpid(), flush=True)\n"
                   "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                   "r.bind(('127.0.0.1', 0)); u.sendto(b'0123456789abcdef', r.getsockname())")
        pid = int(r.stdout.split()[0])
        ev = live.wait_for(lambda e: e.tid == pid and e.type == 31)
        assert ev.param_named("res") == 16 and ev.param_named("size") == 16
        assert ev.param_raw(1) == b"01234567"
    finally:
        src.close()


def test_drop_failed_keeps_failed_exits_in_the_kernel(tmp_path: Path) -> None:
    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
    src = LiveSource({"openat"}, scan_proc=False, poll_interval=0.01, drop_failed=True)
    try:
        src.open()
    except DriverError as exc:
        pytest.skip(f"eBPF unavailable here: {exc}")
    try:
        live = Live(src)
        ok = tmp_path / "exists"
        ok.write_text("x")
        r = run_py("import os, sys\nprint(os.getpid(), flush=True)\n"
                   "for p in sys.argv[1:]:\n"
                   "    try:\n        os.close(os.open(p, os.O_RDONLY))\n    except OSError:\n        pass\n",
                   str(tmp_path / "missing"), str(ok))
        pid = int(r.stdout.split()[0])
        got = live.collect(lambda e: e.tid == pid and e.type == 307, 0.5)  # openat exits
        names = [e.param_named("name") for e in got]
        assert str(ok) in names and str(tmp_path / "missing") not in names
        assert all(e.param_named("fd") >= 0 for e in got)
    finally:
        src.close()


def test_stop_hands_out_what_the_kernel_already_sent(tmp_path: Path) -> None:
    """A capture stopped by a signal keeps the events from before the signal (close() drops them)."""
    import struct

    from tercel.state.event import Event

    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
    src = LiveSource({"openat"}, scan_proc=False)
    try:
        src.open()
    except DriverError as exc:
        pytest.skip(f"eBPF unavailable here: {exc}")
    try:
        target = tmp_path / "stop-drain"
        target.write_text("x")
        r = run_py("import os, sys\nprint(os.getpid(), flush=True)\n"
                   "for _ in range(1000): os.close(os.open(sys.argv[1], os.O_RDONLY))", str(target))
        pid = int(r.stdout.split()[0])
        src.stop()  # nothing was read yet: all 1000 opens are still in the ring
        mine = [1 for buf, off, cpu, _ in src
                if struct.unpack_from("<Q", buf, off + 8)[0] == pid
                and Event(buf, off, cpu, 0).param_named("name") == str(target)]
        assert len(mine) == 1000
    finally:
        src.close()
