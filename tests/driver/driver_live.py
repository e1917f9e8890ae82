"""Helpers for the live eBPF tests: the started source and waits for events of given tids.

Every test starts real processes and waits, with a bounded timeout, for the kernel's events about them.
The machine is shared, so events are matched by the tid of the test's own child processes.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from tercel.capture.live import LiveSource
from tercel.driver.loader import DEFAULT_OBJECT
from tercel.state.event import Event

EXTRA = {"getppid", "procexit"}


def live_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "live eBPF tests need root"
    if not Path("/sys/kernel/btf/vmlinux").exists():
        return "kernel has no BTF (/sys/kernel/btf/vmlinux)"
    if not DEFAULT_OBJECT.is_file():
        return f"BPF object not built ({DEFAULT_OBJECT}); run make -C {DEFAULT_OBJECT.parent}"
    return None


class Live:
    """A started LiveSource plus helpers to wait for events. Events read but not yet looked at stay
    queued, so a wait that returns mid-batch loses nothing for the next one."""

    def __init__(self, src: LiveSource) -> None:
        self.src = src
        self._pending: deque[Event] = deque()

    def _events(self, duration: float) -> Iterator[Event]:
        end = time.monotonic() + duration
        while True:
            while self._pending:
                yield self._pending.popleft()
            left = end - time.monotonic()
            if left <= 0:
                return
            chunk, offs = self.src.poll(min(0.05, left))
            for off in offs:
                self._pending.append(Event(chunk, off, struct.unpack_from("<H", chunk, off - 8)[0], 0))

    def drain(self) -> None:
        for _ in self._events(0.05):
            pass

    def wait_for(self, pred: Callable[[Event], bool], timeout: float = 5.0) -> Event:
        for ev in self._events(timeout):
            if pred(ev):
                return ev
        raise AssertionError("timed out waiting for the event")

    def gather(self, pred: Callable[[Event], bool], done: Callable[[list[Event]], bool],
               timeout: float = 5.0) -> list[Event]:
        """Events matching `pred`, read until `done(events)` holds (or fail after `timeout`)."""
        out: list[Event] = []
        for ev in self._events(timeout):
            if pred(ev):
                out.append(ev)
                if done(out):
                    return out
        raise AssertionError(f"timed out; got {[(e.type, e.tid) for e in out]}")

    def collect(self, pred: Callable[[Event], bool], duration: float) -> list[Event]:
        return [ev for ev in self._events(duration) if pred(ev)]


def run_py(code: str, *args: str, cwd: str | None = None, env: dict[str, str] | None = None,
           timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run a Python snippet in a child process (its pid is printed first by the snippet when needed)."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout, check=False)
