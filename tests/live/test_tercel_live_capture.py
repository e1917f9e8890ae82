"""A live capture of the issue's triggers (`tercel capture -w F.scap`) is read by `sysdig -r` without
error and replayed by `tercel -e` to the same alerts the live tercel raised for them."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import tercel_live as tl

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def setup(live_ok: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("tercel-capture")
    cfg, rules = tl.write_config(tmp), tl.write_test_rules(tmp)
    args = ["-c", str(cfg), "-r", str(tl.OFFICIAL_RULES), "-r", str(rules), "-U"]
    early = tl.EarlyProgram()  # before both the live tercel and the capture
    live = tl.Tercel(args)
    cap = tmp / "triggers.scap"
    recorder = subprocess.Popen(tl.tercel_cmd("capture", "-w", str(cap)), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        live.wait_ready()
        # the writer creates the file once the driver is attached and /proc is scanned
        end = time.monotonic() + 60
        while not cap.exists() and recorder.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        assert cap.exists(), f"tercel capture never started: {recorder.communicate(timeout=10)}"
        expects = [tl.trigger_shadow_read(), early.fire(), early.send_expect(), tl.trigger_symlink(tmp),
                   tl.trigger_memfd_exec(), tl.trigger_ptrace_attach(), tl.trigger_tcp_connect(),
                   tl.trigger_udp_send()]
        if not tl.devshm_noexec():
            expects.append(tl.trigger_devshm_exec())
        live_alerts = [live.wait_alert(e.rule, 10.0, **e.kw()) for e in expects]
        time.sleep(0.5)  # the recorder reads the same ring events a little later
        recorder.send_signal(signal.SIGINT)
        out, err = recorder.communicate(timeout=60)
        assert recorder.returncode == 0, err
        assert "events written to" in err
        yield {"cap": cap, "args": args, "expects": expects, "live": live_alerts, "tercel": live,
               "recorder_err": err}
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait(10)
        live.stop()
        early.close()


def test_sysdig_reads_the_capture(setup: dict[str, Any]) -> None:
    if shutil.which("sysdig") is None:
        pytest.skip("sysdig is not installed")
    r = subprocess.run(["sysdig", "-r", str(setup["cap"]), "-p", "%evt.num %proc.pid %evt.type %fd.name"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "rror" not in r.stderr, r.stderr
    assert r.stdout.count("\n") > 100
    for exp in setup["expects"]:
        pid = exp.fields.get("proc.pid")
        if pid is not None:
            assert any(line.split()[1:2] == [str(pid)] for line in r.stdout.splitlines()), exp
    # (sysdig 0.29 predates the newest socket events' parameter lists and skips them silently, so it
    # cannot be an oracle for the network fields here: the replay test compares those with the live run)


def untimed(alert: dict[str, Any]) -> dict[str, Any]:
    """An alert without its time stamps (the text output starts with the time)."""
    fields = {k: v for k, v in alert["output_fields"].items() if k != "evt.time"}
    return {"rule": alert["rule"], "priority": alert["priority"], "output": alert["output"].split(" ", 1)[1],
            "fields": fields, "tags": alert.get("tags")}


def test_replay_gives_the_same_alerts(setup: dict[str, Any]) -> None:
    r = subprocess.run(tl.tercel_cmd(*setup["args"], "-e", str(setup["cap"])), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    replayed = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    for exp, live_alert in zip(setup["expects"], setup["live"], strict=True):
        same = [a for a in replayed if a["rule"] == exp.rule
                and all(a["output_fields"].get(k) == v for k, v in exp.fields.items())]
        assert same, f"replay has no {exp.rule} alert with {exp.fields}; recorder: {setup['recorder_err']}"
        assert untimed(same[0]) == untimed(live_alert)
        # each driver instance converts boot-clock stamps with its own (realtime - boottime) reading,
        # so the two processes' clocks for the same kernel event agree to a few microseconds only
        assert abs(same[0]["output_fields"]["evt.time"] - live_alert["output_fields"]["evt.time"]) < 1_000_000
    # and nothing more nor less about the triggers' processes
    pids = {e.fields.get("proc.pid") or e.fields.get("proc.ppid") for e in setup["expects"]}
    t: tl.Tercel = setup["tercel"]

    def about(alerts: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((a["rule"], json.dumps(untimed(a), sort_keys=True)) for a in alerts
                      if a["output_fields"].get("proc.pid") in pids or a["output_fields"].get("proc.ppid") in pids)

    assert about(replayed) == about(t.alerts)
