"""Drops are never silent: tercel with the smallest ring (buf_size_preset 1 = 1 MiB) and the official
rules, under an open+close storm far faster than a Python consumer, loses events in the kernel; the
drop check sees them, raises "Falco internal: syscall event drop" (action alert), logs it (action log)
and counts it in the summary."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tercel_live as tl

pytestmark = pytest.mark.live

RULE = "Falco internal: syscall event drop"

STORM = """\
import os, sys, time
path, end = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    for _ in range(1000):
        os.close(os.open(path, os.O_RDONLY))
"""


@pytest.fixture(scope="module")
def tercel(live_ok: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tl.Tercel]:
    tmp = tmp_path_factory.mktemp("tercel-drops")
    cfg = tl.write_config(tmp, **{"engine.modern_ebpf.buf_size_preset": 1,
                                  "syscall_event_drops.actions": ["log", "alert"],
                                  "syscall_event_drops.threshold": 0.1})
    t = tl.Tercel(["-c", str(cfg), "-r", str(tl.OFFICIAL_RULES), "-r", str(tl.write_test_rules(tmp)), "-U"])
    try:
        t.wait_ready()
        yield t
    finally:
        t.stop()


def test_storm_drops_raise_the_internal_alert(tercel: tl.Tercel, tmp_path: Path) -> None:
    target = tmp_path / "storm-target"
    target.write_text("x")
    storms = [subprocess.Popen([sys.executable, "-c", STORM, str(target), "10"]) for _ in range(2)]
    try:
        alert = tercel.wait_alert(RULE, timeout=15.0)
    finally:
        for p in storms:
            p.terminate()
            p.wait(30)
    assert alert["priority"] == "Debug" and alert["source"] == "internal"
    assert alert["output_fields"]["n_drops"] > 0
    assert "system calls dropped in last second" in alert["output"]
    time.sleep(1.5)  # let the drop check see the quiet second after the storm
    assert tercel.stop(signal.SIGINT) == 0
    err = tercel.stderr()
    assert f"{RULE}." in err  # the log action
    assert "Syscall event drop monitoring:" in err
    detected = int(err.split("event drop detected: ")[1].split()[0])
    assert detected >= 1
    assert "num times actions taken: 1" in err  # one token: rate 1/30 s, max_burst 1


def test_capture_reports_kernel_drops(live_ok: None, tmp_path: Path) -> None:
    """`tercel capture` recording every syscall while storms starve it of CPU: the ring overflows and
    the capture says so (the file misses events) instead of ending as if complete."""
    target = tmp_path / "storm-target"
    target.write_text("x")
    cap = tmp_path / "storm.scap"
    rec = subprocess.Popen(tl.tercel_cmd("capture", "-w", str(cap), "-M", "4"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 30
    while not cap.exists() and rec.poll() is None and time.monotonic() < end:
        time.sleep(0.05)
    storms = [subprocess.Popen([sys.executable, "-c", STORM, str(target), "2.5"]) for _ in range(3)]
    for p in storms:
        p.wait(30)
    _, err = rec.communicate(timeout=60)
    assert rec.returncode == 0, err
    assert "events written to" in err
    assert "events dropped by the kernel (ring buffer full)" in err and "is incomplete" in err, err
