"""Layer 6 — alert channels behind a bounded queue; a slow or broken channel never stalls events.

Public API: ``Dispatcher.from_config(cfg, hostname=None)`` with ``.submit(alert)`` (never blocks),
``.close(deadline_s)``, ``.reopen()`` (SIGUSR1) and ``.stats()``; ``ConfigError``; and Falco's alert
shapes ``format_text(alert, iso8601=...)`` / ``format_json(alert, JsonOptions(...))``.
"""

from tercel.outputs.config import ConfigError
from tercel.outputs.dispatcher import Dispatcher
from tercel.outputs.formats import JsonOptions, format_json, format_text

__all__ = ["ConfigError", "Dispatcher", "JsonOptions", "format_json", "format_text"]
