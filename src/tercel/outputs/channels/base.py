"""What every channel implements, and the item the dispatcher hands to channels."""

from __future__ import annotations

import time
from typing import Any

from tercel.engine.alert import Alert
from tercel.outputs.formats import JsonOptions, dump_json, format_json


class RetryableError(Exception):
    """Delivery failed in a way that may succeed later (server down, 5xx, timeout)."""


class PermanentError(Exception):
    """Delivery failed and retrying cannot help (4xx, bad payload): count it as failed at once."""


class Item:
    """One alert as channels receive it: the alert, its Falco line (JSON or text, per json_output,
    already escaped and capped) and, on demand, the JSON line for channels that always speak JSON."""

    __slots__ = ("_json", "alert", "json_options", "line", "queued_at")

    def __init__(self, alert: Alert, line: str, json_options: JsonOptions) -> None:
        self.alert = alert
        self.line = line
        self.json_options = json_options
        self.queued_at = time.monotonic()
        self._json: str | None = None

    def json_line(self) -> str:
        if self._json is None:  # a race here computes it twice, harmlessly
            self._json = format_json(self.alert, self.json_options)
        return self._json


class Channel:
    """A destination. Methods run only on the channel's own worker thread."""

    name = "channel"
    # > 0: the worker collects alerts for this many seconds and calls send_batch once (digests)
    batch_window = 0.0

    def send(self, item: Item) -> None:
        raise NotImplementedError

    def send_batch(self, items: list[Item]) -> None:
        for it in items:
            self.send(it)

    def reopen(self) -> None:
        """SIGUSR1: reopen files, restart kept-alive programs, drop connections."""

    def close(self) -> None:
        """Release resources (flush buffers); called once at shutdown."""


def dump(d: dict[str, Any]) -> bytes:
    return dump_json(d).encode("utf-8", "replace")
