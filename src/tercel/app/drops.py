"""``syscall_event_drops``: notice when the kernel dropped events, as Falco's drop manager does.

Once a second the driver's counters are compared with the previous second's. A second with drops
counts as one "event drop detected"; when the dropped share passes ``threshold`` and the token
bucket (``rate`` per second, ``max_burst``) allows, the ``actions`` run: ``log`` (an error line),
``alert`` (the internal rule "Falco internal: syscall event drop", priority Debug, so it only shows
with ``priority: debug``), ``exit`` (stop). The totals go to stderr at the end, in Falco's words."""

from __future__ import annotations

import sys
import time
from typing import Any

from tercel.app import log
from tercel.engine.alert import Alert
from tercel.engine.priority import Priority

RULE = "Falco internal: syscall event drop"


class DropMonitor:
    def __init__(self, cfg: Any, outputs: Any, hostname: str = "") -> None:
        self.threshold = float(cfg.get("syscall_event_drops.threshold", 0.1))
        self.actions = [a for a in (cfg.get("syscall_event_drops.actions") or []) if a != "ignore"]
        self.rate = float(cfg.get("syscall_event_drops.rate", 0.03333))
        self.max_burst = float(cfg.get("syscall_event_drops.max_burst", 1))
        self.simulate = bool(cfg.get("syscall_event_drops.simulate_drops", False))
        self.outputs = outputs
        self.hostname = hostname
        self.tokens = self.max_burst
        self.last_refill = time.monotonic()
        self.next_check = time.monotonic() + 1.0
        self.prev: tuple[int, int] | None = None
        self.detected = 0  # seconds with drops ("event drop detected: N occurrences")
        self.actions_taken = 0
        self.exit_requested = False

    def _claim(self, now: float) -> bool:
        self.tokens = min(self.max_burst, self.tokens + (now - self.last_refill) * self.rate)
        self.last_refill = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def tick(self, counters: Any, now: float | None = None) -> None:
        """Call often; does its work once a second. ``counters`` has ``sent`` and ``dropped``."""
        now = time.monotonic() if now is None else now
        if now < self.next_check:
            return
        self.next_check = now + 1.0
        sent, dropped = int(counters.sent), int(counters.dropped)
        if self.simulate:
            dropped += 1_000_000
        prev, self.prev = self.prev, (sent, dropped)
        if prev is None:
            return
        d_sent, d_drop = sent - prev[0], dropped - prev[1]
        if d_drop <= 0:
            return
        self.detected += 1
        ratio = d_drop / max(d_sent + d_drop, 1)
        if ratio <= self.threshold or not self.actions or not self._claim(now):
            return
        self.actions_taken += 1
        msg = f"{RULE}. {d_drop} system calls dropped in last second."
        for action in self.actions:
            if action == "log":
                log.log("error", msg)
            elif action == "alert":
                fields = {"ebpf_enabled": 1, "n_drops": d_drop, "n_evts": d_sent,
                          "n_drops_buffer_total": d_drop}
                self.outputs.submit(Alert(time_ns=time.time_ns(), rule=RULE, priority=Priority.DEBUG,
                                          source="internal", message=msg, output_fields=fields,
                                          hostname=self.hostname))
            elif action == "exit":
                log.log("critical", msg + " Exiting.")
                self.exit_requested = True

    def summary(self) -> str:
        return ("Syscall event drop monitoring:\n"
                f"   - event drop detected: {self.detected} occurrences\n"
                f"   - num times actions taken: {self.actions_taken}\n")

    def print_summary(self) -> None:
        sys.stderr.write(self.summary())
        sys.stderr.flush()
