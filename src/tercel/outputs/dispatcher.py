"""The Dispatcher: one bounded queue between the engine and the channels.

``submit`` only appends to that queue (never blocks; a full queue drops and counts). One dispatcher
thread takes alerts off it, applies the global priority and throttling, formats the Falco line once
and hands it to every channel's worker, each with its own bounded queue and thread, so a slow or dead
channel only ever delays and drops its own alerts. The same thread watches for channels blocked
longer than ``output_timeout`` and logs it (rate-limited), as Falco's watchdog does.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from typing import Any, BinaryIO

from tercel.engine.alert import Alert
from tercel.outputs.build import OutputsConfig, load
from tercel.outputs.channels.base import Item
from tercel.outputs.formats import format_json, format_text
from tercel.outputs.ratelog import RateLimitedLog, log
from tercel.outputs.throttle import Throttle
from tercel.outputs.worker import ChannelWorker

_STOP = object()


class Dispatcher:
    def __init__(self, config: OutputsConfig | Mapping[str, Any], *, warn_interval: float = 10.0) -> None:
        if not isinstance(config, OutputsConfig):
            config = load(config)
        self.config = config
        self._warn = RateLimitedLog(interval=warn_interval)
        self._q: queue.Queue[Any] = queue.Queue(config.queue_capacity)
        self._throttle = Throttle(config.throttle)
        self._workers = [ChannelWorker(ch, opts, self._warn) for ch, opts in config.channels]
        self._drop_lock = threading.Lock()
        self.queue_dropped = 0
        self.format_errors = 0
        self.received = 0
        self._closed = False
        for w in self._workers:
            w.start()
        self._thread = threading.Thread(target=self._run, name="tercel-outputs", daemon=True)
        self._thread.start()

    @classmethod
    def from_config(
        cls, cfg: Mapping[str, Any], *, hostname: str | None = None, stdout: BinaryIO | None = None
    ) -> Dispatcher:
        """Validate the falco.yaml mapping (raises ConfigError naming the key) and start the channels."""
        return cls(load(cfg, hostname=hostname, stdout=stdout))

    # --- the engine side ------------------------------------------------------------------------

    def submit(self, alert: Alert) -> None:
        """Queue an alert for every channel. Never blocks: a full queue drops it (counted)."""
        if self._closed:
            self._count_drop("outputs closed")
            return
        try:
            self._q.put_nowait(alert)
        except queue.Full:
            self._count_drop(f"outputs queue full ({self.config.queue_capacity})")

    def _count_drop(self, why: str) -> None:
        with self._drop_lock:
            self.queue_dropped += 1
            n = self.queue_dropped
        self._warn.warning("queue", f"{why}: alert dropped ({n} dropped so far)")

    def reopen(self) -> None:
        """SIGUSR1: reopen the file output, restart kept-alive programs, reconnect network channels."""
        for w in self._workers:
            w.request_reopen()

    def close(self, deadline_s: float = 5.0) -> bool:
        """Stop taking alerts and flush what is queued, for at most `deadline_s` seconds.
        Returns True when everything was delivered (or failed) in time; what is left is dropped."""
        if self._closed:
            return True
        self._closed = True
        end = time.monotonic() + deadline_s
        try:  # the dispatcher thread keeps draining, so a full queue frees up quickly
            self._q.put(_STOP, timeout=max(deadline_s, 0.01))
        except queue.Full:
            pass  # deadline reached with the queue still full: the workers are aborted below
        self._thread.join(max(end - time.monotonic(), 0.0))
        for w in self._workers:
            w.stop()
        done = not self._thread.is_alive()
        for w in self._workers:
            done = w.join(end - time.monotonic()) and done
        if not done:
            for w in self._workers:
                if not w.join(0):
                    w.abort()
                    log.warning("output channel %s did not flush before the shutdown deadline", w.name)
            # a final short grace so an aborted retry loop can record its result
            for w in self._workers:
                w.join(0.05)
        return done

    def stats(self) -> dict[str, Any]:
        """Counters: the shared queue, throttling, and per channel sent/dropped/failed/suppressed."""
        t = self._throttle
        return {
            "queue": {
                "capacity": self.config.queue_capacity,
                "pending": self._q.qsize(),
                "dropped": self.queue_dropped,
                "received": self.received,
                "format_errors": self.format_errors,
            },
            "throttling": {
                "suppressed": sum(t.suppressed.values()),
                "deduplicated": t.deduplicated,
                "rate_limited": t.rate_limited,
                "by_rule": dict(t.suppressed),
            },
            "channels": {
                w.name: {
                    "sent": w.sent,
                    "dropped": w.dropped,
                    "failed": w.failed,
                    "suppressed": w.suppressed,
                    "filtered": w.filtered,
                    "retries": w.retries,
                    "pending": w.pending(),
                }
                for w in self._workers
            },
        }

    @property
    def channel_names(self) -> list[str]:
        return [w.name for w in self._workers]

    # --- the dispatcher thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                alert = self._q.get(timeout=0.25)
            except queue.Empty:
                self._watchdog()
                continue
            if alert is _STOP:
                break
            try:
                self._dispatch(alert)
            except Exception as e:  # one bad alert must not stop delivery
                self.format_errors += 1
                self._warn.warning(
                    "format", f"cannot format alert of rule {getattr(alert, 'rule', '?')!r}: {e}"
                )
            self._watchdog()

    def _dispatch(self, alert: Alert) -> None:
        cfg = self.config
        self.received += 1
        if alert.priority > cfg.min_priority:
            return
        if not self._throttle.allow(alert, time.monotonic()):
            for w in self._workers:
                if alert.priority <= w.min_priority:
                    w.suppressed += 1
            self._warn.warning(
                f"throttle:{alert.rule}",
                f"throttling: suppressing alerts of rule {alert.rule!r} "
                f"({self._throttle.suppressed.get(alert.rule, 0)} suppressed so far)",
            )
            return
        opts = cfg.json_options
        line = (
            format_json(alert, opts)
            if cfg.json_output
            else format_text(alert, iso8601=cfg.iso8601, max_size=cfg.max_size)
        )
        item = Item(alert, line, opts)
        for w in self._workers:
            if alert.priority > w.min_priority:
                w.filtered += 1
            else:
                w.offer(item)

    def _watchdog(self) -> None:
        limit = self.config.output_timeout
        now = time.monotonic()
        for w in self._workers:
            since = w.busy_since
            if since is not None and now - since > limit:
                self._warn.warning(
                    f"blocked:{w.name}",
                    f"output channel {w.name} blocked for more than {int(limit * 1000)} ms "
                    f"(output_timeout); other channels are not affected",
                )
