"""Replay throughput: events per second through the pipeline stages, and sysdig as the yardstick.

    .venv/bin/python benchmarks/replay.py [--events 500000] [--capture PATH] [--keep FILE] [--plain]
                                          [--stages read,decode,...] [--rules FILE ...] [--no-sysdig]

1. Builds a large capture: the events of a sample capture repeated, timestamps shifted, until
   ``--events`` (default: 500k from shared/data/captures/falco044_evtgen_mix.scap), gzip unless --plain.
2. Times each stage over the whole file (each stage re-reads the file):
   - read:        the .scap reader alone (block walk, gzip)
   - decode:      + an Event per event, its evt.type name and first parameter (what dispatch needs)
   - decode-all:  + every parameter decoded (worst case, nothing is skipped)
   - state:       + the state Inspector (threads, fds, users), an Event for every event
   - state-wanted: the same, with the inspector told which codes the official rules read
                   (``Inspector.set_wanted``): events of other codes get no Event
   - rules:       + the official stable rules, wired as ``tercel -e`` does (set_wanted, then
                   ``Ruleset.process`` on every Event)
3. With sysdig installed: ``sysdig -r FILE -p %evt.num evt.type=execve`` on the same file, and each
   stage's events/s as a ratio of sysdig's; every stage also as a ratio of Falco's events/s
   (``--falco-eps``, default 616k: Falco 0.44 replaying a 1.43M-event capture of this mix with the
   official stable rules). The brief's bar: the rules stage within 3x of Falco (>= 0.33x).

Stages are plain functions ``fn(path) -> events processed``; another layer plugs its own in with
``STAGES["name"] = factory`` where ``factory(args) -> fn`` (return None to report "n/a").
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tercel.capture.scap_reader import ScapReader  # noqa: E402
from tercel.capture.scap_writer import ScapWriter  # noqa: E402
from tercel.state.event import Event  # noqa: E402

SHARED = ROOT / ".." / "shared"
DEFAULT_CAPTURE = SHARED / "data" / "captures" / "falco044_evtgen_mix.scap"
DEFAULT_RULES = SHARED / "rules" / "falcosecurity" / "falco_rules.yaml"

StageFn = Callable[[str], int]
# Falco 0.44 replaying a 1.43M-event capture of the event-generator mix with the official stable
# rules (measured for the project brief): the yardstick of the "rules" stage.
FALCO_EPS = 616_000.0


def build_capture(src: Path, target_events: int, out: Path, compress: bool = True) -> int:
    """Repeat ``src``'s events (timestamps shifted past the previous copy) until ``target_events``."""
    reader = ScapReader(src)
    events = list(reader)
    if not events:
        raise SystemExit(f"{src}: no events")
    ts = [struct.unpack_from("<Q", b, o)[0] for b, o, _, _ in events]
    span = max(ts) - min(ts) + 1
    written = 0
    with ScapWriter(out, initial=reader.initial, compress=compress, compresslevel=1) as w:
        copy = 0
        while written < target_events:
            shift = copy * span
            for (buf, off, cpu, flags), t in zip(events, ts, strict=True):
                if written >= target_events:
                    break
                ln = struct.unpack_from("<I", buf, off + 16)[0]
                ev = bytearray(buf[off:off + ln])
                struct.pack_into("<Q", ev, 0, t + shift)
                w.write_event(ev, 0, cpu, flags)
                written += 1
            copy += 1
    return written


# --- stages ----------------------------------------------------------------------------------

def stage_read(args: argparse.Namespace) -> StageFn:
    def run(path: str) -> int:
        n = 0
        for _ in ScapReader(path):
            n += 1
        return n
    return run


def stage_decode(args: argparse.Namespace) -> StageFn:
    def run(path: str) -> int:
        n = 0
        for buf, off, cpu, flags in ScapReader(path):
            n += 1
            e = Event(buf, off, cpu, flags, n)
            _ = e.name
            e.param(0)
        return n
    return run


def stage_decode_all(args: argparse.Namespace) -> StageFn:
    def run(path: str) -> int:
        n = 0
        for buf, off, cpu, flags in ScapReader(path):
            n += 1
            e = Event(buf, off, cpu, flags, n)
            _ = e.name
            for i in range(e.nparams):
                e.param(i)
        return n
    return run


def stage_state(args: argparse.Namespace) -> StageFn | None:
    try:
        from tercel.state.inspector import Inspector
    except ImportError:
        return None

    def run(path: str) -> int:
        reader = ScapReader(path)
        insp = Inspector(reader.initial)
        n = 0
        process = insp.process
        for buf, off, cpu, flags in reader:
            process(buf, off, cpu, flags)
            n += 1
        return n
    return run


def _load_stable(args: argparse.Namespace) -> Any:
    from tercel.engine.rules.loader import load_rules

    ruleset, results = load_rules(args.rules or [str(DEFAULT_RULES)])
    if not all(getattr(r, "successful", True) for r in results):
        return None
    return ruleset


def stage_state_wanted(args: argparse.Namespace) -> StageFn | None:
    try:
        import tercel.fields.extract  # noqa: F401  (registers the extractors)
        from tercel.state.inspector import Inspector
    except ImportError:
        return None
    ruleset = _load_stable(args)
    if ruleset is None or not hasattr(ruleset, "wanted_codes"):
        return None
    wanted = ruleset.wanted_codes()

    def run(path: str) -> int:
        reader = ScapReader(path)
        insp = Inspector(reader.initial)
        insp.set_wanted(wanted)
        n = 0
        process = insp.process
        for buf, off, cpu, flags in reader:
            process(buf, off, cpu, flags)
            n += 1
        return n
    return run


def stage_rules(args: argparse.Namespace) -> StageFn | None:
    try:
        import tercel.fields.extract  # noqa: F401  (registers the extractors)
        from tercel.engine.rules.loader import load_rules
        from tercel.state.inspector import Inspector
    except ImportError:
        return None
    rules = args.rules or [str(DEFAULT_RULES)]
    ruleset, results = load_rules(rules)
    if not all(getattr(r, "successful", True) for r in results):
        return None

    def run(path: str) -> int:
        reader = ScapReader(path)
        insp = Inspector(reader.initial)
        if hasattr(insp, "set_wanted") and hasattr(ruleset, "wanted_codes"):
            insp.set_wanted(ruleset.wanted_codes())
        n = 0
        process = insp.process
        match = ruleset.process
        for buf, off, cpu, flags in reader:
            evt = process(buf, off, cpu, flags)
            if evt is not None:
                match(evt)
            n += 1
        return n
    return run


STAGES: dict[str, Callable[[argparse.Namespace], StageFn | None]] = {
    "read": stage_read,
    "decode": stage_decode,
    "decode-all": stage_decode_all,
    "state": stage_state,
    "state-wanted": stage_state_wanted,
    "rules": stage_rules,
}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def time_sysdig(path: str, cpu: bool) -> float | None:
    exe = shutil.which("sysdig")
    if exe is None:
        return None
    t, c = time.perf_counter(), _children_cpu()
    r = subprocess.run([exe, "-r", path, "-p", "%evt.num", "evt.type=execve"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=3600)
    if r.returncode != 0:
        print(f"sysdig failed: {r.stderr.decode(errors='replace')[:200]}")
        return None
    return _children_cpu() - c if cpu else time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--capture", type=Path, default=DEFAULT_CAPTURE)
    ap.add_argument("--keep", type=Path, help="write the built capture here (and reuse it if it exists)")
    ap.add_argument("--plain", action="store_true", help="build an uncompressed capture")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--rules", action="append")
    ap.add_argument("--no-sysdig", action="store_true")
    ap.add_argument("--falco-eps", type=float, default=FALCO_EPS,
                    help="Falco's events/s on such a capture with the official stable rules (ratio column)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="time stages by CPU time of the process (default: steady on a busy machine) or wall")
    args = ap.parse_args(argv)
    cpu = args.clock == "cpu"
    clock = time.process_time if cpu else time.perf_counter

    tmpdir = tempfile.mkdtemp(prefix="tercel-bench-")
    try:
        path = args.keep or Path(tmpdir) / "bench.scap"
        if not path.exists():
            if not args.capture.is_file():
                print(f"sample capture {args.capture} not found (use --capture)")
                return 2
            t = time.perf_counter()
            n = build_capture(args.capture, args.events, path, compress=not args.plain)
            print(f"built {path} with {n} events in {time.perf_counter() - t:.1f}s "
                  f"({os.path.getsize(path) / 1e6:.1f} MB{'' if args.plain else ' gzip'})")
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        total_bytes = len(gzip.open(path).read()) if gz else os.path.getsize(path)

        sysdig_rate = None
        if not args.no_sysdig:
            print(f"(events/s by {args.clock} time)")
            dt = time_sysdig(str(path), cpu)
            if dt is not None:
                nev = sum(1 for _ in ScapReader(path))
                sysdig_rate = nev / dt
                print(f"{'sysdig -r (one-field filter)':<32} {sysdig_rate:>12,.0f} events/s  ({dt:.2f}s)")
            else:
                print("sysdig: not installed, no ratio")

        results: dict[str, Any] = {}
        for name in args.stages.split(","):
            factory = STAGES.get(name)
            reason = "layer not available"
            try:
                fn = factory(args) if factory else None
            except Exception as exc:  # a layer still being built must not stop the other figures
                fn, reason = None, f"{type(exc).__name__}: {exc}"
            if fn is None:
                print(f"{name:<32} {'n/a':>12}  ({reason})")
                continue
            t = clock()
            n = fn(str(path))
            dt = clock() - t
            rate = n / dt if dt > 0 else float("inf")
            results[name] = rate
            ratio = f"  {rate / sysdig_rate:5.2f}x sysdig" if sysdig_rate else ""
            ratio += f"  {rate / args.falco_eps:5.2f}x Falco"
            print(f"{name:<32} {rate:>12,.0f} events/s  ({dt:.2f}s, {total_bytes / dt / 1e6:.0f} MB/s){ratio}")
        return 0
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
