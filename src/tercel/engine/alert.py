"""The alert: what the engine hands to output channels when a rule matches an event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tercel.engine.priority import Priority


@dataclass(slots=True)
class Alert:
    time_ns: int  # event timestamp, ns since the epoch
    rule: str
    priority: Priority
    source: str  # "syscall", "internal", ...
    message: str  # the rendered rule output, without the "<time>: <Priority> " prefix
    output_fields: dict[str, Any] = field(default_factory=dict)  # field name -> typed value (None = <NA>)
    tags: tuple[str, ...] = ()
    hostname: str = ""
