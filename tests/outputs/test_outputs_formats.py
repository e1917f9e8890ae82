"""Falco's text line and JSON alert, byte for byte; escaping of hostile data; the size cap."""

from __future__ import annotations

import datetime
import json

import pytest
from outputs_support import HOSTILE, TS, hostile_alert, make_alert

from shared_data import SHARED
from tercel.engine.alert import Alert
from tercel.engine.priority import Priority
from tercel.outputs import JsonOptions, format_json, format_text
from tercel.outputs.formats import escape_text, time_iso8601, time_local, time_rfc3339

EXPECTED = SHARED / "data" / "expected" / "falco044_evtgen_mix.falco-0.44.stable-5.1.0.jsonl"


def _alert_from_falco(d: dict) -> Alert:
    """Rebuild the engine's Alert from one of real Falco's JSON alerts."""
    _time, _, rest = d["output"].partition(": ")
    _prio, _, message = rest.partition(" ")
    fields = d["output_fields"]
    ts = fields.get("evt.time.iso8601") or fields["evt.time"]
    return Alert(
        time_ns=ts,
        rule=d["rule"],
        priority=Priority.parse(d["priority"]),
        source=d["source"],
        message=message,
        output_fields=fields,
        tags=tuple(reversed(d["tags"])),  # order must not matter: Falco prints a sorted set
        hostname=d["hostname"],
    )


def test_json_identical_to_real_falco():
    if not EXPECTED.is_file():
        pytest.skip(f"reference alerts not found: {EXPECTED} (../shared is absent)")
    lines = EXPECTED.read_text().splitlines()
    assert len(lines) == 34
    for line in lines:
        a = _alert_from_falco(json.loads(line))
        assert format_json(a, JsonOptions(iso8601=True)) == line


def test_time_formats():
    assert time_rfc3339(TS) == "2026-11-26T17:48:03.397268199Z"
    assert time_iso8601(TS) == "2026-11-26T17:48:03.397268199+0000"
    local = datetime.datetime.fromtimestamp(TS // 10**9).strftime("%H:%M:%S")
    assert time_local(TS) == f"{local}.397268199"
    assert time_rfc3339(5) == "1970-01-01T00:00:00.000000005Z"


def test_text_line():
    a = make_alert(message="file=/etc/shadow proc=cat", priority=Priority.CRITICAL)
    assert (
        format_text(a, iso8601=True)
        == "2026-11-26T17:48:03.397268199+0000: Critical file=/etc/shadow proc=cat"
    )
    assert format_text(a, iso8601=False) == f"{time_local(TS)}: Critical file=/etc/shadow proc=cat"
    a.priority = Priority.INFORMATIONAL
    assert format_text(a, iso8601=True).split(" ")[1] == "Informational"


def test_json_options():
    a = make_alert(message="m", fields={"proc.name": "x", "n": None}, tags=("z", "a", "z"))
    full = json.loads(format_json(a, JsonOptions(include_message=True, iso8601=True)))
    assert list(full) == sorted(full)  # nlohmann's sorted keys
    assert full == {
        "hostname": "testhost",
        "message": "m",
        "output": "2026-11-26T17:48:03.397268199+0000: Warning m",
        "output_fields": {"n": None, "proc.name": "x"},
        "priority": "Warning",
        "rule": "Test rule",
        "source": "syscall",
        "tags": ["a", "z"],
        "time": "2026-11-26T17:48:03.397268199Z",
    }
    bare = json.loads(
        format_json(a, JsonOptions(include_output=False, include_output_fields=False, include_tags=False))
    )
    assert sorted(bare) == ["hostname", "priority", "rule", "source", "time"]
    # hostname from the options when the alert has none
    a.hostname = ""
    assert json.loads(format_json(a, JsonOptions(hostname="h1")))["hostname"] == "h1"
    assert format_json(a).startswith('{"hostname":"","output":')


def test_internal_alert_shapes():
    a = Alert(
        time_ns=TS,
        rule="Falco internal: syscall event drop",
        priority=Priority.DEBUG,
        source="internal",
        message="Falco internal: syscall event drop. 3 system calls dropped in last second.",
        output_fields={"n_drops": 3, "ebpf_enabled": "1"},
    )
    assert format_text(a, iso8601=True) == (
        "2026-11-26T17:48:03.397268199+0000: Debug Falco internal: syscall event drop. "
        '3 system calls dropped in last second. (n_drops=3 ebpf_enabled="1")'
    )
    d = json.loads(format_json(a, JsonOptions(hostname="h")))
    assert (
        d["output"] == a.message
        and "tags" not in d
        and d["output_fields"] == {"n_drops": 3, "ebpf_enabled": "1"}
    )


def test_hostile_text_is_one_safe_line():
    line = format_text(hostile_alert(), iso8601=True)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    line.encode("utf-8")  # no lone surrogates left
    assert (
        "cmd=evil\\nFAKE 00:00:00.000000000: Critical forged\\r\\x1b[31mred\\x1b[0m \\xff\\xfe ;$(id)`id`|&><!channel>"
        in line
    )
    assert line.endswith("file=/tmp/\\xff\\n")
    assert escape_text("a\tb\x7f\x85\u2028\u202e") == "a\\tb\\x7f\\x85\\u2028\\u202e"
    assert escape_text("plain ütf-8 ✓") == "plain ütf-8 ✓"


def test_hostile_json_is_valid_utf8_and_round_trips():
    out = format_json(hostile_alert(), JsonOptions())
    raw = out.encode("utf-8")  # would raise on lone surrogates
    assert b"\n" not in raw and b"\x1b" not in raw  # escaped as \n and \u001b
    d = json.loads(raw)
    expected = HOSTILE.replace("\udcff", "\ufffd").replace("\udcfe", "\ufffd")
    assert d["output_fields"]["proc.cmdline"] == expected
    assert d["output_fields"]["fd.name"] == "/tmp/\ufffd\n"


def test_size_cap():
    big = "A" * 100_000
    a = make_alert(message=f"cmd={big}", fields={"proc.cmdline": big, "proc.name": "x"})
    line = format_text(a, iso8601=True, max_size=1000)
    assert len(line) == 1000 and line.endswith("...[truncated]")
    out = format_json(a, JsonOptions(max_size=4096))
    assert len(out) <= 4096
    d = json.loads(out)
    assert d["output_fields"]["proc.name"] == "x"
    assert d["output_fields"]["proc.cmdline"].endswith("...[truncated]")
    assert d["output"].endswith("...[truncated]")
    # escaping inflates the dump: the cap still holds
    a = make_alert(message="\x01" * 5000, fields={"f": "\x02" * 5000})
    assert len(format_json(a, JsonOptions(max_size=2000))) <= 2000
