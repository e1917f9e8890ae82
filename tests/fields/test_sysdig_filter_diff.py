"""Filter-only fields and matching semantics against sysdig: for each filter, the events sysdig
selects (``sysdig -r CAPTURE FILTER``) are the events tercel's compiled condition selects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))
from state_scenario import write_scenario

from shared_data import SHARED

FILTERS = [
    "fd.net=127.0.0.0/8",
    "fd.snet=127.0.0.0/8",
    "fd.cnet=10.0.0.0/24",
    "fd.net=10.0.0.0/8",
    "fd.ip=127.0.0.1",
    "fd.port=80",
    "fd.port in (53, 443)",
    "fd.sip=127.0.0.1 and fd.sport=80",
    "proc.aname=bash",
    "proc.aname=systemd and not proc.name=bash",
    "proc.apid=100",
    "evt.type=open and evt.is_open_write=true",
    "evt.is_open_read=true",
    "fd.typechar=f and fd.directory=/etc",
    "fd.name startswith /etc and evt.dir=<",
    "fd.type in (ipv4, ipv6) and fd.l4proto=tcp",
    "fd.sockfamily=unix",
    "evt.rawres<0",
    "evt.failed=true",
    "evt.res=ENOENT",
    "user.name=root and evt.type=read",
    "proc.cmdline contains passwd",
    "proc.tty!=0",
    "container.id!=host",
    "evt.category=net",
    "fd.num>=5",
    "proc.pname=cat",
    "fd.is_server=true and fd.type=ipv4",  # IPv6: see DELIBERATE in test_sysdig_diff.py
    "evt.count.exit=1",
    "thread.tid>200",
]


def _need() -> None:
    if shutil.which("sysdig") is None:
        pytest.skip("sysdig is not installed (apt-get install sysdig)")


def _sysdig_nums(path: Path, flt: str) -> set[int]:
    out = subprocess.run(["sysdig", "-r", str(path), "-p", "*%evt.num", flt], capture_output=True,
                         timeout=120, check=False)
    assert out.returncode == 0, (flt, out.stderr.decode(errors="replace"))
    return {int(x) for x in out.stdout.split() if x.isdigit()}


def _tercel_nums(path: Path, filters: list[str]) -> dict[str, set[int]]:
    from tercel.capture.scap_reader import ScapReader
    from tercel.engine import condition
    from tercel.state.inspector import Inspector

    fns = {f: condition.compile(condition.parse(f)) for f in filters}
    found: dict[str, set[int]] = {f: set() for f in filters}
    with ScapReader(path) as reader:
        insp = Inspector(reader.initial)
        for buf, off, cpu, flags in reader:
            evt = insp.process(buf, off, cpu, flags)
            if evt.type == 234:  # procinfo: sysdig never shows it
                continue
            for f, fn in fns.items():
                if fn(evt):
                    found[f].add(evt.num)
    return found


@pytest.mark.parametrize("source", ["scenario", "cat_write", "connect_localhost"])
def test_filters_select_the_same_events(source: str, tmp_path: Path) -> None:
    _need()
    if source == "scenario":
        path = write_scenario(tmp_path / "scenario.scap")
    else:
        path = SHARED / "data" / "captures" / f"{source}.scap"
        if not path.exists():
            pytest.skip(f"{path} is missing (../shared not present)")
    mine = _tercel_nums(path, FILTERS)
    problems = []
    for flt in FILTERS:
        want = _sysdig_nums(path, flt)
        if want != mine[flt]:
            problems.append(f"{flt!r}: only sysdig {sorted(want - mine[flt])[:10]}, "
                            f"only tercel {sorted(mine[flt] - want)[:10]}")
    assert not problems, "\n".join(problems)
