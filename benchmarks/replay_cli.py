"""End-to-end replay benchmark: the `tercel -r RULES -e CAPTURE` command as users run it.

    .venv/bin/python benchmarks/replay_cli.py [--capture FILE] [--rules FILE] [--runs N]

Prints wall time, events in the capture and events/s for a full replay (process start, rule
loading, decoding, state, rules, outputs to /dev/null, summary), and the same for `--dry-run` so the
start-up part (loading and compiling the rules) can be told apart from the per-event part.
Defaults: the newest shared capture and the official stable rules from ../shared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
DEFAULT_CAPTURE = SHARED / "data" / "captures" / "falco044_evtgen_mix.scap"
DEFAULT_RULES = SHARED / "rules" / "falcosecurity" / "falco_rules.yaml"


def count_events(capture: Path) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from tercel.capture.scap_reader import ScapReader

    with ScapReader(str(capture)) as reader:
        return sum(1 for _ in reader)


def timed(args: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "tercel", *args], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
    return elapsed, r.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--capture", type=Path, default=DEFAULT_CAPTURE)
    ap.add_argument("--rules", type=Path, default=DEFAULT_RULES)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    for p in (a.capture, a.rules):
        if not p.exists():
            print(f"missing {p} (../shared is not beside the repository)")
            return 1
    n = count_events(a.capture)
    quiet = ["-o", "log_stderr=false", "-o", "json_output=true"]
    dry = min(timed(["-r", str(a.rules), "--dry-run", *quiet])[0] for _ in range(a.runs))
    best = float("inf")
    for _ in range(a.runs):
        t, rc = timed(["-r", str(a.rules), "-e", str(a.capture), *quiet])
        if rc != 0:
            print(f"replay failed (exit {rc})")
            return 1
        best = min(best, t)
    per_event = max(best - dry, 1e-9)
    print(f"capture: {a.capture.name} ({n} events), rules: {a.rules.name}")
    print(f"start-up (--dry-run, rules loaded): {dry:.3f} s")
    print(f"full replay: {best:.3f} s wall, {n / best:,.0f} events/s overall")
    print(f"event processing only: {per_event:.3f} s, {n / per_event:,.0f} events/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
