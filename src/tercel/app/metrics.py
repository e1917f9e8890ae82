"""``metrics``: periodic snapshots of tercel's own counters, as Falco's metrics feature.

Every ``metrics.interval`` (Prometheus-style duration: ``500ms``, ``15s``, ``1h``; a bare number is
milliseconds; at least 100 ms) a snapshot is taken; with ``output_rule`` it goes out as the internal
alert "Falco internal: metrics snapshot" (priority Informational, source internal), with
``output_file`` it is appended as one JSON line. With ``webserver.prometheus_metrics_enabled`` the
latest values are also served at ``/metrics`` in the Prometheus text format.

Names follow Falco's (``falco.num_evts``, ``falco.evts_rate_sec``, ``scap.n_drops``,
``falco.rules.<rule name>``...)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from tercel import __version__
from tercel.engine.alert import Alert
from tercel.engine.priority import Priority

RULE = "Falco internal: metrics snapshot"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w|y)?\s*$")


def parse_interval(text: str | int) -> float:
    """Seconds for a metrics interval; ValueError when malformed."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"invalid metrics interval {text!r} (e.g. 500ms, 15s, 1h)")
    seconds = int(m.group(1)) * _UNITS[m.group(2) or "ms"]
    return max(seconds, 0.1)


def _proc_self() -> tuple[float, float, float]:
    """(cpu seconds, rss MB, vsz MB) of this process."""
    t = os.times()
    rss = vsz = 0.0
    try:
        with open("/proc/self/statm") as fh:
            size, resident = (int(x) for x in fh.read().split()[:2])
        page = os.sysconf("SC_PAGE_SIZE")
        vsz, rss = size * page / 1e6, resident * page / 1e6
    except (OSError, ValueError):
        pass
    return t.user + t.system, rss, vsz


class Metrics:
    def __init__(self, cfg: Any, *, outputs: Any = None, hostname: str = "",
                 rule_counts: Callable[[], dict[str, int]] | None = None,
                 events: Callable[[], int] | None = None,
                 drops: Callable[[], tuple[int, int]] | None = None,
                 tables: Callable[[], dict[str, int]] | None = None) -> None:
        self.enabled = bool(cfg.get("metrics.enabled"))
        self.interval = parse_interval(cfg.get("metrics.interval") or "5000")
        self.output_rule = bool(cfg.get("metrics.output_rule"))
        self.output_file = str(cfg.get("metrics.output_file") or "")
        self.rules_counters = bool(cfg.get("metrics.rules_counters_enabled", True))
        self.resources = bool(cfg.get("metrics.resource_utilization_enabled", True))
        self.state_counters = bool(cfg.get("metrics.state_counters_enabled", True))
        self.kernel_counters = bool(cfg.get("metrics.kernel_event_counters_enabled", True))
        self.include_empty = bool(cfg.get("metrics.include_empty_values", False))
        self.outputs = outputs
        self.hostname = hostname
        self.rule_counts = rule_counts
        self.events = events
        self.drops = drops
        self.tables = tables
        self.start_ns = time.time_ns()
        self._t0 = time.monotonic()
        self._prev_evts = 0
        self._prev_time = self._t0
        self._prev_cpu = _proc_self()[0]
        self._next = self._t0 + self.interval
        self.latest: dict[str, Any] = {}
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        snap: dict[str, Any] = {
            "falco.version": __version__,
            "falco.start_ts": self.start_ns,
            "falco.duration_sec": int(now - self._t0),
            "falco.hostname": self.hostname,
            "falco.host_num_cpus": os.cpu_count() or 0,
        }
        evts = self.events() if self.events else 0
        dt = max(now - self._prev_time, 1e-9)
        snap["falco.num_evts"] = evts
        snap["falco.num_evts_prev"] = self._prev_evts
        snap["falco.evts_rate_sec"] = round((evts - self._prev_evts) / dt, 2)
        if self.resources:
            cpu, rss, vsz = _proc_self()
            snap["falco.cpu_usage_perc"] = round(100.0 * (cpu - self._prev_cpu) / dt, 2)
            snap["falco.memory_rss_mb"] = round(rss, 2)
            snap["falco.memory_vsz_mb"] = round(vsz, 2)
            self._prev_cpu = cpu
        if self.kernel_counters and self.drops:
            sent, dropped = self.drops()
            snap["scap.n_evts"] = sent
            snap["scap.n_drops"] = dropped
            snap["scap.n_drops_perc"] = round(100.0 * dropped / max(sent + dropped, 1), 4)
        if self.state_counters and self.tables:
            for k, v in self.tables().items():
                snap[f"falco.{k}"] = v
        if self.rules_counters and self.rule_counts:
            counts = self.rule_counts()
            snap["falco.rules.matches_total"] = sum(counts.values())
            for name, n in counts.items():
                if n or self.include_empty:
                    snap[f"falco.rules.{name}"] = n
        self._prev_evts, self._prev_time = evts, now
        with self._lock:
            self.latest = snap
        return snap

    def tick(self, now: float | None = None) -> None:
        """Call often; emits a snapshot when the interval has passed."""
        if not self.enabled:
            return
        now = time.monotonic() if now is None else now
        if now < self._next:
            return
        self._next = now + self.interval
        self.emit(self.snapshot())

    def emit(self, snap: dict[str, Any]) -> None:
        if self.output_rule and self.outputs is not None:
            self.outputs.submit(Alert(time_ns=time.time_ns(), rule=RULE, priority=Priority.INFORMATIONAL,
                                      source="internal", message="Falco metrics snapshot",
                                      output_fields=dict(snap), hostname=self.hostname))
        if self.output_file:
            try:
                with open(self.output_file, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(snap, ensure_ascii=False, separators=(",", ":")) + "\n")
            except OSError:
                pass  # metrics must never stop detection

    def prometheus(self) -> str:
        """The latest snapshot (taken now when there is none yet) in the Prometheus text format."""
        with self._lock:
            snap = dict(self.latest)
        if not snap:
            snap = self.snapshot()
        out = [f'falcosecurity_falco_version_info{{version="{__version__}"}} 1\n']
        for key, value in snap.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if key.startswith("falco.rules.") and key != "falco.rules.matches_total":
                rule = key[len("falco.rules."):].replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
                out.append(f'falcosecurity_falco_rules_matches_total{{rule_name="{rule}"}} {value}\n')
                continue
            prefix, _, name = key.partition(".")
            name = re.sub(r"[^a-zA-Z0-9_]", "_", name)
            out.append(f"falcosecurity_{'scap' if prefix == 'scap' else 'falco'}_{name} {value}\n")
        return "".join(out)
