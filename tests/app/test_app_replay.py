"""Replay from the CLI (`tercel -r RULES -e CAPTURE`, `-o engine.kind=replay ...`): exact alerts and
Falco's end-of-capture summary, for the shared captures, with rules written for each test.

Every expected alert is justified by the events of the capture, as `sysdig -r` shows them:

cat_write.scap (`cat /dev/null` run from bash, pid 20072):
   141 < open /etc/ld.so.cache   151 < open /lib/x86_64-linux-gnu/libc.so.6
   187 < open /usr/lib/locale/locale-archive   197 < open /dev/null
   (enter events 140/150/186/196 reach no rule, as in Falco 0.44)
connect_localhost.scap:
   187 < connect fd=4 127.0.0.1:47192->127.0.0.1:80 res=EINPROGRESS (thread 31699, no process info)
"""

from __future__ import annotations

import json
import textwrap

import pytest
from app_helpers import shared_path

UTC = {"TZ": "UTC"}

CAT_RULES = """\
- rule: Cat opened a file
  desc: cat opened something
  condition: evt.type = open and proc.name = cat
  output: "cat opened %fd.name (command=%proc.cmdline parent=%proc.pname fd=%fd.num)"
  priority: WARNING
  tags: [filesystem, test]
- rule: Shared library opened
  desc: a library opened by anything
  condition: evt.type = open and fd.name endswith .so.6
  output: "library %fd.name opened by %proc.name"
  priority: INFO
  tags: [library]
"""

CONNECT_RULES = """\
- rule: Localhost connect
  desc: a connect() to the loopback address
  condition: evt.type = connect and fd.sip = 127.0.0.1
  output: "connect to localhost (connection=%fd.name port=%fd.sport res=%evt.res proc=%proc.name)"
  priority: NOTICE
"""

# The built-in config has Falco's `append_output: [{suggested_output: true}]`: container fields follow.
HOST = (" container_id=host container_name=host container_image_repository= container_image_tag="
        " k8s_pod_name=<NA> k8s_ns_name=<NA>")
CAT_LINES = [
    "16:17:57.881785348: Warning cat opened /etc/ld.so.cache (command=cat /dev/null parent=bash fd=3)" + HOST,
    "16:17:57.881799840: Warning cat opened /lib/x86_64-linux-gnu/libc.so.6 (command=cat /dev/null parent=bash fd=3)"
    + HOST,
    "16:17:57.882008208: Warning cat opened /usr/lib/locale/locale-archive (command=cat /dev/null parent=bash fd=3)"
    + HOST,
    "16:17:57.882054739: Warning cat opened /dev/null (command=cat /dev/null parent=bash fd=3)" + HOST,
]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def alerts_and_summary(stdout: str) -> tuple[list[str], str]:
    head, sep, tail = stdout.partition("Events detected: ")
    assert sep, stdout
    return head.splitlines(), sep + tail


def test_cat_write_text_alerts_and_summary(tercel, tmp_path):
    cap = shared_path("data", "captures", "cat_write.scap")
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    r = tercel("-r", rules, "-e", str(cap), env=UTC)
    assert r.returncode == 0, r.stderr
    alerts, summary = alerts_and_summary(r.stdout)
    # rule_matching=first: the libc open matches both rules, the first one defined wins
    assert alerts == CAT_LINES
    assert summary == ("Events detected: 4\n"
                       "Rule counts by severity:\n"
                       "   WARNING: 4\n"
                       "Triggered rules by rule name:\n"
                       "   Cat opened a file: 4\n")


def test_rule_matching_all(tercel, tmp_path):
    cap = shared_path("data", "captures", "cat_write.scap")
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    r = tercel("-r", rules, "-e", str(cap), "-o", "rule_matching=all", env=UTC)
    assert r.returncode == 0, r.stderr
    alerts, summary = alerts_and_summary(r.stdout)
    assert alerts[:2] == [CAT_LINES[0], CAT_LINES[1]]
    assert alerts[2] == ("16:17:57.881799840: Informational library /lib/x86_64-linux-gnu/libc.so.6 opened by cat"
                         + HOST)
    assert alerts[3:] == CAT_LINES[2:]
    assert summary == ("Events detected: 5\n"
                       "Rule counts by severity:\n"
                       "   WARNING: 4\n"
                       "   INFO: 1\n"
                       "Triggered rules by rule name:\n"
                       "   Cat opened a file: 4\n"
                       "   Shared library opened: 1\n")


@pytest.mark.parametrize(("extra", "expected"), [
    (["-o", "priority=error"], {}),
    (["-D", "Cat opened"], {"Shared library opened": 1}),
    (["-T", "filesystem"], {"Shared library opened": 1}),
    (["-t", "library"], {"Shared library opened": 1}),
    (["-o", "rules[].disable.tag=test"], {"Shared library opened": 1}),
])
def test_selection_flags(tercel, tmp_path, extra, expected):
    cap = shared_path("data", "captures", "cat_write.scap")
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    r = tercel("-r", rules, "-e", str(cap), *extra, env=UTC)
    assert r.returncode == 0, r.stderr
    _, summary = alerts_and_summary(r.stdout)
    total = sum(expected.values())
    assert summary.startswith(f"Events detected: {total}\n")
    by_rule = summary.split("Triggered rules by rule name:\n")[1]
    assert by_rule == "".join(f"   {k}: {v}\n" for k, v in expected.items())


def test_replay_via_engine_kind_and_json(tercel, tmp_path):
    cap = shared_path("data", "captures", "connect_localhost.scap")
    rules = write(tmp_path, "r.yaml", CONNECT_RULES)
    r = tercel("-r", rules, "-o", "engine.kind=replay", "-o", f"engine.replay.capture_file={cap}",
               "-o", "json_output=true", env={**UTC, "TERCEL_HOSTNAME": "testhost"})
    assert r.returncode == 0, r.stderr
    alerts, summary = alerts_and_summary(r.stdout)
    assert len(alerts) == 1
    a = json.loads(alerts[0])
    assert a["rule"] == "Localhost connect"
    assert a["priority"] == "Notice"
    assert a["source"] == "syscall"
    assert a["hostname"] == "testhost"
    assert a["time"] == "2018-04-02T21:27:03.470627540Z"
    assert a["output"] == ("21:27:03.470627540: Notice connect to localhost (connection=127.0.0.1:47192->127.0.0.1:80 "
                           "port=80 res=EINPROGRESS proc=<NA>)" + HOST)
    f = a["output_fields"]
    assert f["evt.time"] == 1522704423470627540
    assert f["container.id"] == "host" and f["k8s.pod.name"] is None
    assert f["fd.name"] == "127.0.0.1:47192->127.0.0.1:80"
    assert f["fd.sport"] == 80
    assert summary == ("Events detected: 1\nRule counts by severity:\n   NOTICE: 1\n"
                       "Triggered rules by rule name:\n   Localhost connect: 1\n")


def test_no_alerts_summary(tercel, tmp_path):
    cap = shared_path("data", "captures", "empty.scap")
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    r = tercel("-r", rules, "-e", str(cap))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Events detected: 0\nRule counts by severity:\nTriggered rules by rule name:\n"


def test_bad_capture_is_one_clear_error(tercel, tmp_path):
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    junk = tmp_path / "junk.scap"
    junk.write_bytes(b"\x00" * 64)
    r = tercel("-r", rules, "-e", str(junk))
    assert r.returncode == 1
    assert "junk.scap" in r.stderr and "Traceback" not in r.stderr
    r = tercel("-r", rules, "-e", str(tmp_path / "missing.scap"))
    assert r.returncode == 1 and "missing.scap" in r.stderr and "Traceback" not in r.stderr


def test_truncated_capture_keeps_earlier_alerts(tercel, tmp_path):
    import gzip

    cap = shared_path("data", "captures", "cat_write.scap")
    data = gzip.decompress(cap.read_bytes())
    cut = tmp_path / "cut.scap"
    cut.write_bytes(data[:-100])  # inside the last event blocks, after cat's opens
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    r = tercel("-r", rules, "-e", str(cut), env=UTC)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "cut.scap" in r.stderr.strip().splitlines()[-1]
    alerts, summary = alerts_and_summary(r.stdout)  # the summary still comes out for what was read
    assert alerts == CAT_LINES
    assert summary.startswith("Events detected: 4\n")


@pytest.mark.parametrize("name", ["cat_write", "connect_localhost", "empty"])
def test_default_rules_are_quiet_on_benign_captures(tercel, name):
    """The built-in config and rules: no alert for `cat /dev/null` or a localhost connect."""
    cap = shared_path("data", "captures", f"{name}.scap")
    r = tercel("-e", str(cap))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Events detected: 0\nRule counts by severity:\nTriggered rules by rule name:\n"


def test_default_rules_detect_what_falco_detects(tercel):
    """tercel's own rules, on the capture of the event generator's attacks, raise the same alerts (rule
    names and counts) as Falco 0.44 with the official stable rules."""
    from collections import Counter

    cap = shared_path("data", "captures", "falco044_evtgen_mix.scap")
    expected = shared_path("data", "expected", "falco044_evtgen_mix.falco-0.44.stable-5.1.0.jsonl")
    r = tercel("-e", str(cap), "-o", "json_output=true", timeout=600)
    assert r.returncode == 0, r.stderr
    ours = Counter(json.loads(x)["rule"] for x in r.stdout.splitlines() if x.startswith("{"))
    theirs = Counter(json.loads(x)["rule"] for x in expected.read_text().splitlines() if x.strip())
    assert ours == theirs


def test_append_output_and_extra_fields(tercel, tmp_path):
    cap = shared_path("data", "captures", "connect_localhost.scap")
    rules = write(tmp_path, "r.yaml", CONNECT_RULES.replace("priority: NOTICE", "priority: NOTICE\n  tags: [net]"))
    cfg = write(tmp_path, "c.yaml", """\
        stdout_output: {enabled: true}
        json_output: true
        append_output:
          - match: {tags: [net]}
            extra_output: "tid=%thread.tid"
            extra_fields:
              - proc.pid
              - env: "${TERCEL_TEST_ENV}-x"
          - match: {rule: Some other rule}
            extra_output: "never=%proc.name"
        """)
    r = tercel("-c", cfg, "-r", rules, "-e", str(cap), env={**UTC, "TERCEL_TEST_ENV": "prod"})
    assert r.returncode == 0, r.stderr
    a = json.loads(r.stdout.splitlines()[0])
    assert a["output"].endswith("proc=<NA>) tid=31699")
    assert a["output_fields"]["thread.tid"] == 31699
    assert a["output_fields"]["proc.pid"] == 31699
    assert a["output_fields"]["env"] == "prod-x"
    assert "never" not in a["output"]


def test_deprecated_print_flag(tercel, tmp_path):
    cap = shared_path("data", "captures", "connect_localhost.scap")
    rules = write(tmp_path, "r.yaml", CONNECT_RULES)
    cfg = write(tmp_path, "c.yaml", "stdout_output: {enabled: true}\n")
    r = tercel("-c", cfg, "-r", rules, "-e", str(cap), "-p", "on=%evt.cpu", env=UTC)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].endswith("proc=<NA>) on=1")
    r = tercel("-c", cfg, "-r", rules, "-e", str(cap), "-pc", env=UTC)
    assert r.stdout.splitlines()[0].endswith(HOST)
    bad = write(tmp_path, "bad.yaml", "append_output:\n  - extra_fields: [{a: '%no.such.field'}]\n")
    r = tercel("-c", bad, "-r", rules, "-e", str(cap))
    assert r.returncode == 1 and "append_output" in r.stderr and "Traceback" not in r.stderr


def test_duration_limit_and_pidfile(tercel, tmp_path):
    """-M counts capture time from the first event: cat_write starts at 16:17:55.99 and cat opens its
    files at 16:17:57.88, so one second of it holds none of them."""
    cap = shared_path("data", "captures", "cat_write.scap")
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    pid = tmp_path / "tercel.pid"
    r = tercel("-r", rules, "-e", str(cap), "-M", "1", "-P", str(pid), env=UTC)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Events detected: 0\n")
    assert pid.read_text().strip().isdigit()
    r = tercel("-r", rules, "-e", str(cap), "-M", "3", env=UTC)
    assert "\nEvents detected: 4\n" in r.stdout


def test_replay_kind_without_capture_file(tercel, tmp_path):
    rules = write(tmp_path, "r.yaml", CAT_RULES)
    r = tercel("-r", rules, "-o", "engine.kind=replay")
    assert r.returncode == 1
    assert "engine.replay.capture_file is empty" in r.stderr and "Traceback" not in r.stderr
