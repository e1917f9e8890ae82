"""A one-line progress display on stderr for long replays (only when stderr is a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int = 0, *, stream: TextIO | None = None, delay: float = 2.0) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.total = total  # bytes or events; 0 = unknown
        self.start = time.monotonic()
        self.delay = delay  # show nothing for captures that finish quickly
        self._next = self.start + delay
        self._shown = False

    def update(self, events: int, done: int = 0) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + 0.25
        rate = events / max(now - self.start, 1e-9)
        if self.total and done:
            frac = min(done / self.total, 1.0)
            width = 30
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            line = f"{self.label} [{bar}] {frac * 100:5.1f}% {events} events {rate:,.0f} ev/s"
        else:
            line = f"{self.label} {events} events {rate:,.0f} ev/s"
        self.stream.write("\r" + line[:200] + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
