"""Throttling (a tercel extension): a per-rule token bucket and de-duplication of identical alerts
(same rule and same rendered message) within a window. Suppressed alerts are counted per rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from tercel.engine.alert import Alert


@dataclass(slots=True)
class RateLimit:
    rate: float  # tokens per second; 0 = no limit
    burst: float


@dataclass(slots=True)
class ThrottleConfig:
    enabled: bool = False
    rate: float = 0.0  # alerts per second per rule (0 = unlimited)
    max_burst: int = 10
    dedup_window: float = 0.0  # seconds (0 = off)
    rules: dict[str, RateLimit] = field(default_factory=dict)  # per-rule overrides


class Throttle:
    """Not thread-safe: used by the dispatcher thread only."""

    def __init__(self, cfg: ThrottleConfig) -> None:
        self.cfg = cfg
        self._buckets: dict[str, list[float]] = {}  # rule -> [tokens, last refill]
        self._seen: dict[tuple[str, str], float] = {}  # (rule, message) -> last time let through
        self._prune_at = 0.0
        self.suppressed: dict[str, int] = {}
        self.deduplicated = 0
        self.rate_limited = 0

    def allow(self, alert: Alert, now: float) -> bool:
        cfg = self.cfg
        if not cfg.enabled:
            return True
        if cfg.dedup_window > 0:
            key = (alert.rule, alert.message)
            last = self._seen.get(key)
            if last is not None and now - last < cfg.dedup_window:
                self.deduplicated += 1
                self._count(alert.rule)
                return False
            if now >= self._prune_at:
                w = cfg.dedup_window
                self._seen = {k: t for k, t in self._seen.items() if now - t < w}
                self._prune_at = now + w
        limit = cfg.rules.get(alert.rule)
        rate = limit.rate if limit is not None else cfg.rate
        if rate > 0:
            burst = limit.burst if limit is not None else float(cfg.max_burst)
            b = self._buckets.get(alert.rule)
            if b is None:
                b = self._buckets[alert.rule] = [burst, now]
            b[0] = min(burst, b[0] + (now - b[1]) * rate)
            b[1] = now
            if b[0] < 1.0:
                self.rate_limited += 1
                self._count(alert.rule)
                return False
            b[0] -= 1.0
        if cfg.dedup_window > 0:
            self._seen[(alert.rule, alert.message)] = now
        return True

    def _count(self, rule: str) -> None:
        self.suppressed[rule] = self.suppressed.get(rule, 0) + 1
