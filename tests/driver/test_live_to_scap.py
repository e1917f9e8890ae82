"""A capture written by the scap writer from live events is read by sysdig 0.29 without error."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from driver_live import Live, run_py

pytestmark = pytest.mark.live


def test_live_capture_reads_in_sysdig(live: Live, tmp_path: Path) -> None:
    sysdig = shutil.which("sysdig")
    if sysdig is None:
        pytest.skip("sysdig not installed (apt-get install sysdig)")
    from tercel.capture.scap_writer import ScapWriter

    known = tmp_path / "known-file.txt"
    known.write_text("k")
    live.drain()
    out = tmp_path / "live.scap"
    r = run_py("import os,sys,socket\nprint(os.getpid(), flush=True)\nopen(sys.argv[1]).read()\n"
               "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1); c=socket.socket(); c.connect(s.getsockname())\n"
               "os.system('/bin/true tercel-arg')", str(known))
    assert r.returncode == 0, r.stderr
    pid = int(r.stdout.split()[0])
    with ScapWriter(out, initial=live.src.initial) as w:
        evs = live.gather(lambda e: True, lambda got: any(e.type == 186 and e.tid == pid for e in got), timeout=10)
        for e in evs:
            w.write_event(e.buf, e.offset, e.cpu, e.flags)
    res = subprocess.run([sysdig, "-r", str(out), "-p", "*%evt.type %proc.name %fd.name %proc.exe %evt.args"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.splitlines()
    assert any(ln.startswith("openat ") and str(known) in ln for ln in lines), lines[:50]
    assert any(ln.startswith("execve ") and ln.split()[1] == "true" for ln in lines), lines[:50]
    # the tuple is in the exit event itself (sysdig 0.29 takes fd.name from an enter event, absent here)
    assert any(ln.startswith("connect ") and "tuple=127.0.0.1:" in ln for ln in lines), lines[:50]
    assert os.path.getsize(out) > 1000
