"""Configuration that changes what the kernel sends, checked end to end on a live tercel:
`engine.modern_ebpf.drop_failed_exit: true` keeps failed syscalls' exits in the kernel (Falco's
meaning), so a rule on failed opens stays silent while the same rule on successful opens fires."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import tercel_live as tl

pytestmark = pytest.mark.live

MARK = "tercel-live-opt"
RULES = f"""\
- rule: Test marked open
  desc: a marked process tried to open a marked path (successfully or not)
  condition: evt.type in (open, openat, openat2) and fd.name contains "{MARK}"
  output: marked open (file=%fd.name res=%evt.res)
  priority: NOTICE
"""
OPEN_CODE = """\
import os, sys
for p in sys.argv[1:]:
    try:
        os.close(os.open(p, os.O_RDONLY))
    except OSError:
        pass
"""


@pytest.fixture(scope="module")
def tercel(live_ok: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tl.Tercel]:
    tmp = tmp_path_factory.mktemp("tercel-options")
    rules = tmp / "marked.yaml"
    rules.write_text(RULES)
    cfg = tl.write_config(tmp, **{"engine.modern_ebpf.drop_failed_exit": True})
    t = tl.Tercel(["-c", str(cfg), "-r", str(rules), "-r", str(tl.write_test_rules(tmp)), "-U"])
    try:
        t.wait_ready()
        yield t
    finally:
        t.stop()


def test_drop_failed_exit(tercel: tl.Tercel, tmp_path: Path) -> None:
    missing = tmp_path / f"{MARK}-missing-{uuid.uuid4().hex[:8]}"
    present = tmp_path / f"{MARK}-present-{uuid.uuid4().hex[:8]}"
    present.write_text("x")
    p = subprocess.Popen([sys.executable, "-c", OPEN_CODE, str(missing), str(present)])
    assert p.wait(20) == 0
    # the failed open came first: once the successful one is alerted, the failed one was processed
    tercel.wait_alert("Test marked open", 10.0, proc__pid=p.pid, fd__name=str(present))
    assert not tercel.find("Test marked open", proc__pid=p.pid, fd__name=str(missing))
