"""Warnings that cannot flood the log: at most one per key per interval, with a count of the rest."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("tercel.outputs")


class RateLimitedLog:
    def __init__(self, logger: logging.Logger = log, interval: float = 10.0) -> None:
        self._log = logger
        self._interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._muted: dict[str, int] = {}

    def warning(self, key: str, msg: str) -> bool:
        """Log `msg` unless `key` was logged less than `interval` ago; returns whether it logged."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._muted[key] = self._muted.get(key, 0) + 1
                return False
            self._last[key] = now
            muted = self._muted.pop(key, 0)
        if muted:
            msg += f" ({muted} similar warnings suppressed)"
        self._log.warning("%s", msg)
        return True
