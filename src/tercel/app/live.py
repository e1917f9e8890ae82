"""Live monitoring with the eBPF driver: the rules' syscall set plus the state set (``base_syscalls``;
-A / ``base_syscalls.all`` for everything), SIGINT/SIGTERM stop, SIGHUP reloads config and rules,
SIGUSR1 reopens the outputs. Prints Falco's summary at the end."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

from tercel.app import log, pipeline
from tercel.app.drops import DropMonitor
from tercel.app.errors import AppError, Unavailable
from tercel.app.metrics import Metrics
from tercel.app.stats import AlertStats
from tercel.app.watch import FileWatcher
from tercel.app.webserver import start_if_enabled

# buf_size_preset index -> ring size (Falco's presets: 0 = default, then 1 MB ... 512 MB)
_PRESET_MB = [8, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def _live() -> Any:
    import importlib

    try:
        return importlib.import_module("tercel.capture.live")
    except ModuleNotFoundError as exc:
        if exc.name and "tercel.capture.live".startswith(exc.name):
            raise Unavailable("live capture is not available in this build (no eBPF driver); "
                              "replay a capture with -e CAPTURE") from None
        raise


def _driver_error() -> type[Exception]:
    from tercel.driver.errors import DriverError

    return DriverError


def make_metrics(cfg: Any, **kw: Any) -> Metrics:
    try:
        return Metrics(cfg, **kw)
    except ValueError as exc:
        where = cfg.where("metrics.interval")
        raise AppError(f"configuration error: {where or 'configuration'}: key 'metrics.interval': {exc}") from None


def check_available() -> None:
    """Raise the one-line reason when live capture cannot run here (no driver, no privileges, no BTF)."""
    _live()
    from tercel.driver.loader import preflight

    try:
        preflight()
    except _driver_error() as exc:
        raise AppError(f"live capture is not available: {exc}") from None


def syscall_set(session: Any) -> frozenset[str]:
    """The syscalls the kernel must send, with Falco's base_syscalls semantics. Without -A
    (base_syscalls.all) the I/O syscalls Falco ignores by default (`tercel -i`) stay out even when a
    rule names them, with a warning, as Falco 0.35+ does."""
    from tercel.app.listing import IGNORED_EVENTS
    from tercel.driver.interest import select_syscalls

    cfg = session.cfg
    every = bool(cfg.get("base_syscalls.all"))
    types = session.ruleset.event_types()
    if types is not None and not every:
        ignored = sorted(set(types) & set(IGNORED_EVENTS))
        if ignored:
            log.warning("Loaded rules match syscalls that are ignored by default: " + ", ".join(ignored)
                        + "; run with -A (base_syscalls.all=true) to capture them")
            types = frozenset(types) - set(IGNORED_EVENTS)
    return select_syscalls(
        types,
        custom_set=cfg.get("base_syscalls.custom_set") or (),
        repair=bool(cfg.get("base_syscalls.repair")),
        all_syscalls=every,
    )


def _open(session: Any) -> Any:
    cfg = session.cfg
    preset = int(cfg.get("engine.modern_ebpf.buf_size_preset") or 0)
    ring_mb = _PRESET_MB[preset] if 0 <= preset < len(_PRESET_MB) else 8
    source = _live().LiveSource(syscall_set(session), snaplen=int(cfg.get("falco_libs.snaplen") or 0),
                                ring_bytes=ring_mb << 20,
                                drop_failed=bool(cfg.get("engine.modern_ebpf.drop_failed_exit")))
    try:
        return source.open()
    except _driver_error() as exc:
        raise AppError(f"cannot start live capture: {exc}") from None
    except PermissionError as exc:
        raise AppError(f"cannot start live capture (permission denied): {exc}") from None


def run_live(session: Any) -> int:
    check_available()
    session.write_pidfile()
    web = start_if_enabled(session.cfg, lambda: session.metrics.prometheus() if session.metrics else "")
    try:
        while True:
            rc = _run_once(session)
            if not session.reload_requested or session.stop_requested:
                return rc
            log.info(getattr(session, "reload_reason", "") or "restarting...")
            session.reload_requested = False
            session.reload()
    finally:
        if web is not None:
            web.stop()


def _run_once(session: Any) -> int:
    source = _open(session)
    inspector = pipeline.make_inspector(source)
    ruleset = session.ruleset
    inspector.set_wanted(ruleset.wanted_codes())  # no Event for what no rule reads: state work only
    containers = pipeline.start_container_metadata(session.cfg.as_dict())  # container.* / k8s.* fields
    outputs = session.make_outputs()
    stats = AlertStats(session.rule_names())
    drops = DropMonitor(session.cfg, outputs, getattr(ruleset, "hostname", ""))
    counted = [0]
    names = session.rule_names()
    session.metrics = metrics = make_metrics(
        session.cfg, outputs=outputs, hostname=getattr(ruleset, "hostname", ""),
        rule_counts=lambda: {k: stats.by_rule.get(k, 0) for k in names},
        events=lambda: counted[0],
        drops=lambda: (lambda c: (c.sent, c.dropped))(source.counters()),
        tables=lambda: {"n_threads": len(inspector.threads)})

    def on_stop(_s: int, _f: Any) -> None:
        session.stop_requested = True
        source.stop()

    def on_hup(_s: int, _f: Any) -> None:  # flags only: no I/O inside a signal handler
        session.reload_reason = "SIGHUP received, restarting..."
        session.reload_requested = True
        source.stop()

    def on_usr1(_s: int, _f: Any) -> None:
        session.reopen_requested = True

    old = {sig: signal.signal(sig, fn) for sig, fn in (
        (signal.SIGINT, on_stop), (signal.SIGTERM, on_stop), (signal.SIGHUP, on_hup), (signal.SIGUSR1, on_usr1))}
    timer = None
    if session.ns.duration:  # -M: end even when no event comes
        timer = threading.Timer(session.ns.duration, source.stop)
        timer.daemon = True
        timer.start()
    watcher = None
    if session.cfg.get("watch_config_files"):
        def changed(path: str) -> None:
            session.reload_reason = f"{path} changed, restarting..."
            session.reload_requested = True
            source.stop()

        watcher = FileWatcher([*session.cfg.files, *session.rule_files], changed).start()
    log.info("Opening 'syscall' source with the eBPF driver")
    n = 0
    try:
        for buf, offset, cpu, flags in source:
            evt = inspector.process(buf, offset, cpu, flags)
            n += 1
            if evt is not None:
                for alert in ruleset.process(evt):
                    stats.add(alert)
                    outputs.submit(alert)
            if not n & 0xFF:
                counted[0] = n
                metrics.tick()
                drops.tick(source.counters())
                if drops.exit_requested:
                    session.stop_requested = True
                    break
            if session.reopen_requested:  # per event: the next alert must already go to the new file
                session.reopen_requested = False
                log.info("SIGUSR1 received, reopening outputs...")
                outputs.reopen()
    except _driver_error() as exc:
        raise AppError(f"live capture stopped: {exc}") from None
    finally:
        if timer is not None:
            timer.cancel()
        if watcher is not None:
            watcher.stop()
        for sig, fn in old.items():
            signal.signal(sig, fn)
        source.close()
        containers.stop()
        outputs.close()
    if session.stop_requested:
        log.info("SIGINT received, exiting...")
    drops.print_summary()
    if session.ns.verbose:
        sys.stderr.write(f"Captured Events: {n}\n")
    if not session.reload_requested:
        sys.stdout.write(stats.format())
        sys.stdout.flush()
    return 0


def run_nodriver(session: Any) -> int:
    """engine.kind=nodriver: rules and outputs loaded, no events; runs until -M or a signal."""
    old = session.install_signals()
    session.write_pidfile()
    outputs = session.make_outputs()
    session.metrics = metrics = make_metrics(session.cfg, outputs=outputs)
    web = start_if_enabled(session.cfg, metrics.prometheus)
    try:
        deadline = time.monotonic() + session.ns.duration if session.ns.duration else 0.0
        while not session.stop_requested and not (deadline and time.monotonic() >= deadline):
            time.sleep(0.05)
            metrics.tick()
            if session.reopen_requested:
                session.reopen_requested = False
                outputs.reopen()
    finally:
        if web is not None:
            web.stop()
        outputs.close()
        session.restore_signals(old)
    sys.stdout.write(AlertStats().format())
    return 0
