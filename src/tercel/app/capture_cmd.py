"""``tercel capture -w FILE [-M SECONDS] [-n N] [-z] [FILTER]``: record live events into a .scap file with
the eBPF driver (readable by ``tercel -e``, ``tercel events -r`` and ``sysdig -r``). Without a filter every
syscall is recorded; with one, only the events that match it (state-changing events are always kept so
that the file replays with the right process and fd tables)."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from tercel.app import pipeline
from tercel.app.errors import AppError
from tercel.app.events_cmd import compile_filter
from tercel.app.live import _driver_error, _live, check_available
from tercel.app.options import CaptureArgs


def _state_event(evt: Any) -> bool:
    """Events the state tables depend on (process and fd lifecycle): kept even when filtered out."""
    from tercel.driver.interest import REPAIR_SYSCALLS, STATE_SYSCALLS

    return evt.name in STATE_SYSCALLS or evt.name in REPAIR_SYSCALLS


def run(args: CaptureArgs) -> int:
    check_available()
    match = compile_filter(args.filter)
    from tercel.capture.scap_writer import ScapWriter
    from tercel.driver.interest import select_syscalls

    source = _live().LiveSource(select_syscalls(None), snaplen=args.snaplen)
    try:
        source.open()
    except _driver_error() as exc:
        raise AppError(f"cannot start live capture: {exc}") from None

    def on_stop(_s: int, _f: Any) -> None:
        source.stop()

    old = {s: signal.signal(s, on_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    timer = None
    if args.duration:
        timer = threading.Timer(args.duration, source.stop)
        timer.daemon = True
        timer.start()
    inspector = pipeline.make_inspector(source) if match is not None else None
    written = 0
    try:
        writer = ScapWriter(args.output, initial=source.initial, compress=args.output.endswith(".gz"))
    except OSError as exc:
        source.close()
        raise AppError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    try:
        with writer:
            for buf, offset, cpu, flags in source:
                if inspector is not None:
                    evt = inspector.process(buf, offset, cpu, flags)
                    if evt is None or not (match(evt) or _state_event(evt)):
                        continue
                writer.write_event(buf, offset, cpu, flags)
                written += 1
                if args.limit and written >= args.limit:
                    break
    except OSError as exc:
        raise AppError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    finally:
        if timer is not None:
            timer.cancel()
        for s, h in old.items():
            signal.signal(s, h)
        try:
            dropped = int(source.counters().dropped)  # the kernel's count since the driver was loaded
        except Exception:  # counters unreadable: say nothing rather than fail the capture
            dropped = 0
        source.close()
    sys.stderr.write(f"{written} events written to {args.output}\n")
    if dropped:  # drops are never silent: the file misses events
        sys.stderr.write(f"tercel capture: {dropped} events dropped by the kernel (ring buffer full): "
                         f"{args.output} is incomplete\n")
    return 0
