"""Replay a capture (``-e CAPTURE`` / ``engine.kind=replay``): read it, track state, run the rules,
send alerts to the outputs, then print Falco's summary. Exit 0 unless the capture cannot be read."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from tercel.app import log, pipeline
from tercel.app.drops import DropMonitor
from tercel.app.errors import AppError
from tercel.app.progress import Progress
from tercel.app.stats import AlertStats


def replay(session: Any, capture: str) -> int:
    if not os.path.isfile(capture):
        raise AppError(f"cannot open capture file {capture}: no such file")
    source = pipeline.open_capture(capture)
    inspector = pipeline.make_inspector(source)
    ruleset = session.ruleset
    inspector.set_wanted(ruleset.wanted_codes())  # no Event for what no rule reads
    outputs = session.make_outputs()
    stats = AlertStats(session.rule_names())
    errors = pipeline.capture_error_types()
    duration_ns = int(session.ns.duration) * 1_000_000_000
    progress = Progress(f"Replaying {os.path.basename(capture)}", total=1000)
    process = inspector.process
    match = ruleset.process
    submit = outputs.submit
    old = session.install_signals()
    session.write_pidfile()
    n = 0
    first_ts = 0
    failure: str | None = None
    t0 = time.monotonic()
    try:
        for buf, offset, cpu, flags in source:
            evt = process(buf, offset, cpu, flags)
            n += 1
            if evt is None:
                continue
            if duration_ns:
                if not first_ts:
                    first_ts = evt.ts
                elif evt.ts - first_ts >= duration_ns:
                    break
            for alert in match(evt):
                stats.add(alert)
                submit(alert)
            if not n & 0xFFF:
                if session.stop_requested:
                    break
                if session.reopen_requested:
                    session.reopen_requested = False
                    outputs.reopen()
                progress.update(n, int(pipeline.progress_of(source) * 1000))
    except errors as exc:
        failure = f"capture file {capture}: {exc}"
    finally:
        progress.done()
        outputs.close()
        source.close()
        session.restore_signals(old)
    elapsed = time.monotonic() - t0
    if session.ns.verbose:
        sys.stderr.write(f"Elapsed time: {elapsed:.3f}, Captured Events: {n}, {n / max(elapsed, 1e-9):.2f} eps\n")
    sys.stderr.write(DropMonitor(session.cfg, outputs).summary())  # a capture has no drops; Falco prints it
    sys.stdout.write(stats.format())
    sys.stdout.flush()
    if failure:
        raise AppError(failure)
    log.debug(f"replayed {n} events in {elapsed:.3f}s")
    return 0
