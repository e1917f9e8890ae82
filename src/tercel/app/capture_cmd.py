"""``tercel capture -w FILE [-M SECONDS] [-n N] [FILTER]``: record live events into a .scap file
with the eBPF driver (the file is readable by ``tercel -e`` and ``sysdig -r``)."""

from __future__ import annotations

import importlib
import os
import signal
import time
from typing import Any

from tercel.app import pipeline
from tercel.app.errors import AppError, Unavailable
from tercel.app.events_cmd import compile_filter
from tercel.app.options import CaptureArgs


def _module(name: str, what: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise Unavailable(f"{what} is not available in this build yet") from None
        raise


def run(args: CaptureArgs) -> int:
    live = _module("tercel.capture.live", "live capture (the eBPF driver)")
    writer_mod = _module("tercel.capture.scap_writer", "the .scap writer")
    if os.geteuid() != 0:
        raise AppError("live capture needs root (the eBPF driver needs CAP_BPF and CAP_PERFMON)")
    match = compile_filter(args.filter)
    opener = getattr(live, "open_live", None) or getattr(live, "LiveSource", None)
    writer_cls = getattr(writer_mod, "ScapWriter", None) or getattr(writer_mod, "open_writer", None)
    if opener is None or writer_cls is None:
        raise Unavailable("live capture or the .scap writer has no entry point yet")
    stop = {"now": False}

    def _stop(_s: int, _f: Any) -> None:
        stop["now"] = True

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    source = opener()
    inspector = pipeline.make_inspector(source)
    deadline = time.monotonic() + args.duration if args.duration else 0.0
    written = 0
    try:
        with writer_cls(args.output, source) as writer:
            for buf, offset, cpu, flags in source:
                if buf is not None:
                    evt = inspector.process(buf, offset, cpu, flags)
                    if match is None or (evt is not None and match(evt)):
                        writer.write(buf, offset, cpu, flags)
                        written += 1
                if stop["now"] or (deadline and time.monotonic() >= deadline):
                    break
                if args.limit and written >= args.limit:
                    break
    except OSError as exc:
        raise AppError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            close()
        for s, h in old.items():
            signal.signal(s, h)
    print(f"{written} events written to {args.output}")
    return 0
