"""One thread per channel with its own bounded queue: a slow or dead channel drops only its own alerts.

Failures are retried with exponential backoff (the alert stays at the head of the queue, so order
is kept); once `max_retries` is spent the alert counts as failed. Shutdown drains the queue until a
deadline; whatever is left then counts as dropped.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from tercel.engine.priority import Priority
from tercel.outputs.channels.base import Channel, Item, PermanentError
from tercel.outputs.ratelog import RateLimitedLog, log


@dataclass(slots=True)
class WorkerOptions:
    min_priority: Priority = Priority.DEBUG
    queue_capacity: int = 10_000
    max_retries: int = 0
    retry_backoff: float = 0.5  # first delay, doubled each retry
    retry_backoff_max: float = 10.0


class ChannelWorker:
    def __init__(self, channel: Channel, options: WorkerOptions, warn: RateLimitedLog) -> None:
        self.channel = channel
        self.name = channel.name
        self.options = options
        self.min_priority = options.min_priority
        self._warn = warn
        self._q: collections.deque[Item] = collections.deque()
        self._cv = threading.Condition()
        self._stopping = False
        self._abort = threading.Event()  # set when the shutdown deadline has passed
        self._reopen = False
        self.busy_since: float | None = None  # monotonic start of the send in progress
        # counters (written by one thread each; read racily for stats)
        self.sent = 0
        self.dropped = 0
        self.failed = 0
        self.suppressed = 0
        self.filtered = 0
        self.retries = 0
        self._thread = threading.Thread(target=self._run, name=f"tercel-output-{self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # --- called by the dispatcher thread --------------------------------------------------------

    def offer(self, item: Item) -> None:
        with self._cv:
            if self._stopping or len(self._q) >= self.options.queue_capacity:
                self.dropped += 1
                full = True
            else:
                self._q.append(item)
                self._cv.notify()
                full = False
        if full:
            self._warn.warning(
                f"drop:{self.name}",
                f"output channel {self.name}: queue full ({self.options.queue_capacity}), "
                f"alert dropped ({self.dropped} dropped so far)",
            )

    def pending(self) -> int:
        return len(self._q)

    def request_reopen(self) -> None:
        with self._cv:
            self._reopen = True
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()

    def join(self, timeout: float) -> bool:
        self._thread.join(max(timeout, 0.0))
        return not self._thread.is_alive()

    def abort(self) -> None:
        """The deadline passed: give up on retries and on what is still queued."""
        self._abort.set()
        self.stop()
        with self._cv:
            self.dropped += len(self._q)
            self._q.clear()

    # --- the worker thread ----------------------------------------------------------------------

    def _take(self) -> tuple[list[Item], bool]:
        """Wait for work; returns (items, reopen_requested). No items and no reopen = exit."""
        window = self.channel.batch_window
        with self._cv:
            while not self._q and not self._stopping and not self._reopen:
                self._cv.wait()
            reopen, self._reopen = self._reopen, False
            if window > 0:
                # digest: wait until the oldest alert has waited `window` (shutdown cuts it short)
                while self._q and not self._stopping and not self._reopen:
                    left = self._q[0].queued_at + window - time.monotonic()
                    if left <= 0:
                        break
                    self._cv.wait(left)
                items = list(self._q)
                self._q.clear()
            else:
                items = [self._q.popleft()] if self._q else []
        return items, reopen

    def _run(self) -> None:
        while True:
            items, reopen = self._take()
            if reopen:
                try:
                    self.channel.reopen()
                except Exception as e:  # a failed reopen must not kill the worker
                    self._warn.warning(
                        f"reopen:{self.name}", f"output channel {self.name}: reopen failed: {e}"
                    )
            if items:
                self._deliver(items)
            elif not reopen:
                break  # stopping and drained
        try:
            self.channel.close()
        except Exception as e:
            log.warning("output channel %s: close failed: %s", self.name, e)

    def _deliver(self, items: list[Item]) -> None:
        delay = self.options.retry_backoff
        attempt = 0
        while True:
            self.busy_since = time.monotonic()
            try:
                if len(items) == 1 and self.channel.batch_window <= 0:
                    self.channel.send(items[0])
                else:
                    self.channel.send_batch(items)
            except PermanentError as e:
                self.failed += len(items)
                self._warn.warning(
                    f"fail:{self.name}", f"output channel {self.name}: alert not delivered: {e}"
                )
                return
            except Exception as e:
                if attempt >= self.options.max_retries or self._abort.is_set():
                    self.failed += len(items)
                    self._warn.warning(
                        f"fail:{self.name}",
                        f"output channel {self.name}: alert not delivered after {attempt + 1} attempt(s): {e}",
                    )
                    return
                attempt += 1
                self.retries += 1
                self._warn.warning(
                    f"retry:{self.name}", f"output channel {self.name}: delivery failed ({e}); retrying"
                )
                if self._abort.wait(delay):  # the shutdown deadline passed while waiting
                    self.failed += len(items)
                    return
                delay = min(delay * 2, self.options.retry_backoff_max)
                continue
            finally:
                self.busy_since = None
            self.sent += len(items)
            return
