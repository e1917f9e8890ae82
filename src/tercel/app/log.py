"""tercel's own operational messages (not alerts): to stderr when ``log_stderr`` (prefixed with the time
as Falco does: ``Thu Nov 26 18:00:00 2026: ...``) and to the local syslog when ``log_syslog``,
filtered by ``log_level``."""

from __future__ import annotations

import sys
import syslog
import time

LEVELS = {"emergency": 0, "alert": 1, "critical": 2, "error": 3, "warning": 4, "notice": 5,
          "info": 6, "informational": 6, "debug": 7}

_state = {"stderr": True, "level": 6, "iso": False, "syslog": False}


def configure(*, stderr: bool, level: str, iso8601: bool = False, use_syslog: bool = False) -> None:
    _state["stderr"] = stderr
    _state["level"] = LEVELS.get(level, 6)
    _state["iso"] = iso8601
    if use_syslog and not _state["syslog"]:
        syslog.openlog("tercel", syslog.LOG_PID, syslog.LOG_USER)
    _state["syslog"] = use_syslog


def log(level: str, message: str) -> None:
    rank = LEVELS.get(level, 6)
    if rank > int(_state["level"]):
        return
    if _state["syslog"]:
        try:
            syslog.syslog(min(rank, 7), message.rstrip())  # LOG_EMERG..LOG_DEBUG are 0..7, as LEVELS
        except (OSError, ValueError):
            pass
    if not _state["stderr"]:
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
