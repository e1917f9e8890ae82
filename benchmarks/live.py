"""Live capture cost (root): syscall storms with and without the tercel live source attached.

    .venv/bin/python benchmarks/live.py [--n-open 300000] [--n-exec 2000] [--decode]

Storms run in a child process (a small C program compiled here, so the numbers are the kernel's and
the driver's, not Python's): open+close of one file, and fork+exec of /bin/true. For each storm it
prints the events received per second, the events dropped (ring full), the consumer's CPU use and
the storm's cost per syscall (or per exec) with tercel attached vs not, as a ratio.

The traced syscall set is the official stable rules' event types plus the state set (as Falco would
ask the kernel for); --decode builds a state-layer Event for every record, as a real consumer would.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tercel.capture.live import LiveSource  # noqa: E402
from tercel.driver.errors import DriverError  # noqa: E402
from tercel.driver.interest import select_syscalls  # noqa: E402

# evt.type set of the official stable rules (falco_rules.yaml, see falco-reference.md)
STABLE_RULE_TYPES = {"connect", "dup", "dup2", "dup3", "execve", "execveat", "finit_module", "init_module",
                     "link", "linkat", "open", "openat", "openat2", "ptrace", "sendmsg", "sendto", "socket",
                     "symlink", "symlinkat"}

STORM_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    long n = atol(argv[2]);
    double t0 = now();
    if (!strcmp(argv[1], "open")) {
        for (long i = 0; i < n; i++) { int fd = open(argv[3], O_RDONLY); close(fd); }
    } else {
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
            waitpid(p, 0, 0);
        }
    }
    printf("%.9f\n", now() - t0);
    return 0;
}
"""


def build_storm(tmp: Path) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        sys.exit("benchmarks/live.py: a C compiler (cc) is needed to build the storm program")
    src, exe = tmp / "storm.c", tmp / "storm"
    src.write_text(STORM_C)
    subprocess.run([cc, "-O2", "-o", str(exe), str(src)], check=True)
    return exe


def run_storm(exe: Path, kind: str, n: int, target: str) -> float:
    out = subprocess.run([str(exe), kind, str(n), target], capture_output=True, text=True, check=True)
    return float(out.stdout)


class Consumer(threading.Thread):
    """Reads the ring as fast as it can until stopped; counts records (and optionally decodes them)."""

    def __init__(self, src: LiveSource, decode: bool) -> None:
        super().__init__(daemon=True)
        self.src, self.decode = src, decode
        self.stop_flag = threading.Event()
        self.count = 0

    def run(self) -> None:
        event_cls = None
        if self.decode:
            from tercel.state.event import Event

            event_cls = Event
        while not self.stop_flag.is_set():
            chunk, offs = self.src.poll(0.01)
            if event_cls is not None:
                for off in offs:
                    event_cls(chunk, off).param(0)
            self.count += len(offs)


def prog_stats() -> dict[str, tuple[int, int]]:
    """run_time_ns / run_cnt of tercel's programs (tail-called handlers count in tercel_sys_exit)."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=False).stdout
    try:
        progs = json.loads(out or "[]")
    except ValueError:
        return {}
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0)) for p in progs
            if str(p.get("name", "")).startswith("tercel")}


def measure(exe: Path, kind: str, n: int, target: str, decode: bool, repeat: int) -> None:
    """Alternates unmonitored and monitored runs (the machine may be shared: the minimum of each is kept)."""
    base: list[float] = []
    traced: list[float] = []
    received = sent = dropped = 0
    cpu = wall = 0.0
    kstats: dict[str, list[int]] = {}
    for _ in range(repeat):
        base.append(run_storm(exe, kind, n, target))
        src = LiveSource(select_syscalls(STABLE_RULE_TYPES), scan_proc=False)
        try:
            src.open()
        except DriverError as exc:
            sys.exit(f"benchmarks/live.py: {exc}")
        try:
            cons = Consumer(src, decode)
            before = src.counters()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            cons.start()
            s0 = prog_stats()
            traced.append(run_storm(exe, kind, n, target))
            s1 = prog_stats()
            time.sleep(0.2)  # let the consumer finish the tail
            cons.stop_flag.set()
            cons.join()
            cpu += time.process_time() - cpu0
            wall += time.perf_counter() - wall0
            after = src.counters()
        finally:
            src.close()
        received += cons.count
        sent += after.sent - before.sent
        dropped += after.dropped - before.dropped
        for name, (ns, cnt) in s1.items():
            acc = kstats.setdefault(name, [0, 0])
            acc[0] += ns - s0.get(name, (0, 0))[0]
            acc[1] += cnt - s0.get(name, (0, 0))[1]
    b, t = min(base), min(traced)
    unit = "open+close" if kind == "open" else "fork+exec"
    print(f"== {kind} storm: {repeat} x {n} {unit} ({'decoding' if decode else 'counting'} consumer)")
    print(f"   events received   {received:>12,}  ({received / wall:,.0f}/s while storms ran)")
    print(f"   events sent/drop  {sent:>12,} / {dropped:,}  ({100 * dropped / max(1, sent + dropped):.2f} % dropped)")
    print(f"   consumer CPU      {100 * cpu / wall:>11.1f} %")
    print(f"   cost per {unit:<10} {1e9 * b / n:>8.0f} ns unmonitored, {1e9 * t / n:.0f} ns with tercel "
          f"(ratio {t / b:.2f}x; best of {repeat} each)")
    for name, (ns, cnt) in sorted(kstats.items()):
        if cnt and ns:
            print(f"   kernel {name:<16} {cnt:>10,} runs, {ns / cnt:.0f} ns/run")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-open", type=int, default=300_000)
    ap.add_argument("--n-exec", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--decode", action="store_true", help="build an Event per record in the consumer")
    ap.add_argument("--bpf-stats", action="store_true",
                    help="enable kernel.bpf_stats_enabled during the run to print kernel ns per program run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmarks/live.py: needs root (eBPF)")
    stats_path = Path("/proc/sys/kernel/bpf_stats_enabled")
    old_stats = stats_path.read_text().strip() if args.bpf_stats else None
    if args.bpf_stats:
        stats_path.write_text("1")
    try:
        run_all(args)
    finally:
        if old_stats is not None:
            stats_path.write_text(old_stats)


def run_all(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        exe = build_storm(tmp)
        target = tmp / "target"
        target.write_text("x")
        measure(exe, "open", args.n_open, str(target), args.decode, args.repeat)
        measure(exe, "exec", args.n_exec, str(target), args.decode, args.repeat)


if __name__ == "__main__":
    main()
