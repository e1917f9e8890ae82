"""tercel's own operational messages (not alerts): to stderr when ``log_stderr``, filtered by ``log_level``,
prefixed with the time as Falco does (``Thu Nov 26 18:00:00 2026: ...``)."""

from __future__ import annotations

import sys
import time

LEVELS = {"emergency": 0, "alert": 1, "critical": 2, "error": 3, "warning": 4, "notice": 5,
          "info": 6, "informational": 6, "debug": 7}

_state = {"stderr": True, "level": 6, "iso": False}


def configure(*, stderr: bool, level: str, iso8601: bool = False) -> None:
    _state["stderr"] = stderr
    _state["level"] = LEVELS.get(level, 6)
    _state["iso"] = iso8601


def log(level: str, message: str) -> None:
    if not _state["stderr"] or LEVELS.get(level, 6) > int(_state["level"]):
        return
    if _state["iso"]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    else:
        stamp = time.strftime("%a %b %e %H:%M:%S %Y")
    try:
        sys.stderr.write(f"{stamp}: {message.rstrip()}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def info(message: str) -> None:
    log("info", message)


def warning(message: str) -> None:
    log("warning", message)


def debug(message: str) -> None:
    log("debug", message)
