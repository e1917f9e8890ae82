"""End to end against sysdig 0.29 (the libsinsp of 2022) as the oracle: the events of the
reference captures that a filter selects, through tercel's reader, state, extractors and this
package's compiler, are the events ``sysdig -r FILE FILTER`` prints."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from shared_data import CAPTURES
from tercel.engine.condition import compile, parse

FILTERS = {
    "cat_write.scap": [
        "evt.type = openat", "proc.name = cat", "fd.name contains /etc", "fd.name startswith /lib",
        "fd.name endswith .so.6", "fd.typechar = f", "evt.type in (read, write) and fd.num > 2",
        "fd.name glob '/lib/*'", "fd.name pmatch (/etc, /lib)", "fd.name icontains LIBC",
        "evt.num < 200 and evt.num >= 150", "proc.aname = bash", "proc.aname[1] = bash", "proc.aname != bash",
        "not fd.name exists", "evt.type = close or evt.type = mmap", "evt.res = SUCCESS", "evt.rawres < 0",
        "fd.filename = ld.so.cache", "fd.directory = /etc", "evt.arg[0] exists", "evt.rawarg.fd = 1",
        "fd.name in (/etc/ld.so.cache, /lib/x86_64-linux-gnu/libc.so.6)", "evt.type != read",
        "proc.name startswith c and not evt.type in (brk, mmap)", "fd.type = file", "evt.category = file",
        "not (evt.type = read or fd.typechar = f)",
    ],
    "connect_localhost.scap": [
        "fd.ip = 127.0.0.1", "fd.net = 127.0.0.0/8", "fd.snet in (10.0.0.0/8, 127.0.0.0/8)", "fd.cip = 127.0.0.1",
        "fd.sport = 80", "fd.port > 1000", "fd.l4proto = tcp", "fd.type in (ipv4, ipv6)",
        "evt.type = connect and fd.rport exists", "fd.name contains '->'", "not fd.ip = 127.0.0.1",
        "fd.ip in (127.0.0.1)", "fd.port in (80, 443)",
    ],
}


def _sysdig(cap: Path, fltr: str | None) -> set[int]:
    cmd = ["sysdig", "-r", str(cap), "-p", "%evt.num"] + ([fltr] if fltr else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    return {int(x) for x in out.stdout.split()}


@pytest.mark.parametrize("capture", sorted(FILTERS))
def test_filters_select_what_sysdig_selects(capture):
    if shutil.which("sysdig") is None:
        pytest.skip("sysdig is not installed (apt-get install sysdig)")
    cap = CAPTURES / capture
    if not cap.is_file():
        pytest.skip(f"capture {cap} not found (../shared is absent)")
    try:
        from tercel.capture.scap_reader import ScapReader
        from tercel.state.inspector import Inspector
    except ImportError as e:
        pytest.skip(f"capture reader or state tracking unavailable: {e}")
    from tercel.fields import registry

    registry.get("evt.num")  # catalog, then extractors
    filters = FILTERS[capture]
    fns = [compile(parse(f)) for f in filters]
    ours: list[set[int]] = [set() for _ in filters]
    reader = ScapReader(str(cap))
    inspector = Inspector(reader.initial)
    for buf, off, cpu, flags in reader:
        evt = inspector.process(buf, off, cpu, flags)
        if evt is None:
            continue
        for i, fn in enumerate(fns):
            if fn(evt):
                ours[i].add(evt.num)
    shown = _sysdig(cap, None)  # sysdig prints only events of threads it knows
    mismatches = []
    for fltr, got in zip(filters, ours, strict=True):
        want = _sysdig(cap, fltr)
        got &= shown
        if got != want:
            mismatches.append(f"{fltr}: only tercel {sorted(got - want)[:5]}, only sysdig {sorted(want - got)[:5]}")
    assert mismatches == []
