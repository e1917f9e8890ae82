"""Live monitoring with the eBPF driver: the rules' syscall set (plus the state set, plus the ignored
I/O syscalls with -A / base_syscalls.all), SIGINT/SIGTERM stop, SIGHUP reload, SIGUSR1 reopens outputs."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from tercel.app import engine_api as ea
from tercel.app import log, pipeline
from tercel.app.errors import AppError, Unavailable
from tercel.app.stats import AlertStats


def _live_module() -> Any:
    import importlib

    try:
        return importlib.import_module("tercel.capture.live")
    except ModuleNotFoundError as exc:
        if exc.name and "tercel.capture.live".startswith(exc.name):
            raise Unavailable("live capture is not available in this build yet (no eBPF driver); "
                              "replay a capture with -e CAPTURE") from None
        raise


def check_available() -> None:
    """Raise the one-line reason when live capture cannot run here (no driver, not root)."""
    _live_module()
    if os.geteuid() != 0:
        raise AppError("live capture needs root (the eBPF driver needs CAP_BPF and CAP_PERFMON)")
    checker = getattr(_live_module(), "check_available", None)
    if callable(checker):
        problem = checker()
        if problem:
            raise AppError(f"live capture is not available: {problem}")


def syscall_set(session: Any) -> set[str] | None:
    """The syscalls the kernel must send: what the rules use, or None for everything."""
    cfg = session.cfg
    fn = getattr(session.ruleset, "event_types", None)
    types = fn() if callable(fn) else None
    if types is None:
        return None
    wanted = set(types)
    custom = cfg.get("base_syscalls.custom_set") or []
    for name in custom:
        if name.startswith("!"):
            wanted.discard(name[1:])
        else:
            wanted.add(name)
    if cfg.get("base_syscalls.all"):
        from tercel.app.listing import IGNORED_EVENTS

        wanted |= set(IGNORED_EVENTS)
    return wanted


def _open_live(mod: Any, session: Any, syscalls: set[str] | None) -> Any:
    cfg = session.cfg
    opener = getattr(mod, "open_live", None) or getattr(mod, "LiveSource", None)
    if opener is None:
        raise Unavailable("live capture (tercel.capture.live) has no entry point yet")
    import inspect

    params = inspect.signature(opener).parameters
    kw: dict[str, Any] = {}
    for key, val in (
        ("syscalls", syscalls),
        ("snaplen", cfg.get("falco_libs.snaplen")),
        ("buf_size_preset", cfg.get("engine.modern_ebpf.buf_size_preset")),
        ("cpus_for_each_buffer", cfg.get("engine.modern_ebpf.cpus_for_each_buffer")),
        ("drop_failed_exit", cfg.get("engine.modern_ebpf.drop_failed_exit")),
    ):
        if key in params:
            kw[key] = val
    try:
        return opener(**kw)
    except PermissionError as exc:
        raise AppError(f"live capture needs root (CAP_BPF, CAP_PERFMON): {exc}") from None
    except OSError as exc:
        raise AppError(f"cannot start the eBPF driver: {exc.strerror or exc}") from None


def run_live(session: Any) -> int:
    mod = _live_module()
    check_available()
    old = session.install_signals()
    session.write_pidfile()
    try:
        while True:
            rc = _live_once(session, mod)
            if not session.reload_requested:
                return rc
            log.info("SIGHUP received, restarting...")
            session.reload_requested = False
            session.reload()
    finally:
        session.restore_signals(old)


def _live_once(session: Any, mod: Any) -> int:
    syscalls = syscall_set(session)
    source = _open_live(mod, session, syscalls)
    inspector = pipeline.make_inspector(source)
    outputs = session.make_outputs()
    stats = AlertStats(session.rule_names())
    deadline = time.monotonic() + session.ns.duration if session.ns.duration else 0.0
    n = 0
    log.info("Opening 'syscall' source with the eBPF driver")
    try:
        for buf, offset, cpu, flags in source:
            if buf is not None:
                evt = inspector.process(buf, offset, cpu, flags)
                n += 1
                if evt is not None:
                    for alert in session.ruleset.process(evt):
                        stats.add(alert)
                        outputs.submit(alert)
            if session.reopen_requested:
                session.reopen_requested = False
                log.info("SIGUSR1 received, reopening outputs...")
                outputs.reopen()
            if session.stop_requested:
                log.info("SIGINT received, exiting...")
                break
            if session.reload_requested:
                break
            if deadline and time.monotonic() >= deadline:
                break
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            close()
        outputs.close()
    sys.stdout.write(stats.format())
    sys.stdout.flush()
    return 0


def run_nodriver(session: Any) -> int:
    """engine.kind=nodriver: rules and outputs loaded, no events; runs until -M or a signal."""
    old = session.install_signals()
    outputs = session.make_outputs()
    try:
        deadline = time.monotonic() + session.ns.duration if session.ns.duration else 0.0
        while not session.stop_requested and not (deadline and time.monotonic() >= deadline):
            time.sleep(0.05)
            if session.reopen_requested:
                session.reopen_requested = False
                outputs.reopen()
    finally:
        outputs.close()
        session.restore_signals(old)
    sys.stdout.write(AlertStats().format())
    return 0


__all__ = ["ea", "run_live", "run_nodriver", "syscall_set"]
