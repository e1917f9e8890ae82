"""Micro-benchmark of compiled conditions (run: .venv/bin/python -m tests.engine.condition.bench_condition
from the repository root, or directly). Prints ns per check and ns per event for the stable
ruleset's rules that an execve / openat event reaches. Extractors here read a dict, so the
figures are the engine's own cost (field extraction comes on top)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    __package__ = "tests.engine.condition"

from tercel.engine.condition import compile, event_types, parse
from tercel.fields import registry

from .fakefields import Evt, fake_fields
from .ruleset_helper import load

RULES = Path(__file__).resolve().parents[3] / ".." / "shared" / "rules" / "falcosecurity" / "falco_rules.yaml"


@contextmanager
def dict_extractors() -> Iterator[None]:
    """Every catalog field reads ``evt[name]`` (or ``evt[name[arg]]``) for the duration."""
    saved = {f.name: (f.factory, f.implemented) for f in registry.fields()}

    def factory_for(name: str):
        def make(arg: str | None):
            key = name if arg is None else f"{name}[{arg}]"
            get = dict.get
            return lambda evt: get(evt, key)
        return make

    for name in saved:
        registry.implement(name, factory_for(name))
    try:
        yield
    finally:
        for f in registry.fields():
            f.factory, f.implemented = saved[f.name]


def per_call_ns(fn: Any, evt: Any, n: int = 200_000) -> float:
    t = time.perf_counter_ns()
    for _ in range(n):
        fn(evt)
    return (time.perf_counter_ns() - t) / n


CHECKS = [
    ("tst.s = bash", {"tst.s": "bash"}),
    ("tst.s != bash", {"tst.s": "zsh"}),
    ("tst.s in (a, b, c, bash, d, e, f)", {"tst.s": "bash"}),
    ("tst.s contains ash", {"tst.s": "bash"}),
    ("tst.s startswith /usr/", {"tst.s": "/usr/bin"}),
    ("tst.s icontains ASH", {"tst.s": "bash"}),
    ("tst.s glob '/home/*/.ssh/*'", {"tst.s": "/home/u/.ssh/id"}),
    ("tst.path pmatch (/etc, /usr/lib, /var)", {"tst.path": "/etc/passwd"}),
    ("tst.net in (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", {"tst.net": "192.168.1.1"}),
    ("tst.anc in (sshd, bash)", {"tst.anc": ("init", "sshd")}),
    ("tst.i > 5 and tst.s = x or not tst.s2 exists", {"tst.i": 7, "tst.s": "x"}),
]

EVENTS = {
    "execve": {"evt.type": "execve", "evt.dir": "<", "proc.name": "bash", "proc.pname": "sshd",
               "proc.exe": "/bin/bash", "proc.exepath": "/bin/bash", "proc.cmdline": "bash -i",
               "proc.args": "-i", "container.id": "abc123", "proc.tty": 34816, "user.uid": 1000,
               "user.name": "u", "proc.aname": ("sshd", "systemd"), "proc.aname[2]": "systemd",
               "proc.is_exe_upper_layer": False, "proc.is_exe_from_memfd": False, "evt.res": "SUCCESS",
               "evt.rawres": 0, "proc.sname": "bash", "container.image.repository": "docker.io/library/x"},
    "openat": {"evt.type": "openat", "evt.is_open_read": True, "evt.is_open_write": False,
               "fd.typechar": "f", "fd.num": 3, "fd.name": "/etc/shadow", "fd.directory": "/etc",
               "fd.filename": "shadow", "proc.name": "cat", "proc.pname": "bash", "container.id": "host",
               "proc.cmdline": "cat /etc/shadow", "user.name": "root", "evt.rawres": 3, "evt.arg.flags": "O_RDONLY",
               "proc.aname": ("bash", "sshd"), "proc.aname[2]": "sshd"},
}


def main() -> None:
    print("per check (ns), compiled function call including the dict extractor:")
    with fake_fields():
        for cond, values in CHECKS:
            fn = compile(parse(cond))
            print(f"  {per_call_ns(fn, Evt(values)):7.0f}  {cond}")
    if not RULES.is_file():
        print("(official rules absent: skipping the ruleset figures)")
        return
    with dict_extractors():
        t = time.perf_counter()
        _m, _l, rules, _items = load(RULES)
        compiled = {name: (compile(node), event_types(node) or frozenset()) for name, node in rules.items()}
        print(f"stable ruleset: parse+expand+compile {1000 * (time.perf_counter() - t):.0f} ms for {len(rules)} rules")
        for etype, values in EVENTS.items():
            fns = [fn for fn, types in compiled.values() if etype in types]
            evt = Evt(values)

            def all_rules(e: Any, fns: list[Any] = fns) -> list[bool]:
                return [f(e) for f in fns]
            matches = sum(all_rules(evt))
            print(f"  {etype}: {len(fns)} rules reached, {matches} match, "
                  f"{per_call_ns(all_rules, evt, 20_000) / 1000:.2f} us per event")


if __name__ == "__main__":
    main()
