"""`tercel events -r CAPTURE [FILTER] [-p FORMAT]`: sysdig -r's output, for people writing rules."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from app_helpers import shared_path

UTC = {"TZ": "UTC"}


@pytest.mark.parametrize("name", ["cat_write", "connect_localhost", "empty"])
def test_default_output_is_sysdigs(tercel, name):
    if shutil.which("sysdig") is None:
        pytest.skip("sysdig is not installed (apt-get install sysdig)")
    cap = shared_path("data", "captures", f"{name}.scap")
    ours = tercel("events", "-r", str(cap), env=UTC)
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run(["sysdig", "-r", str(cap)], capture_output=True, text=True, env={"TZ": "UTC"},
                            timeout=120)
    # Line for line, but for the blank sysdig 0.29 leaves after evt.args (current Falco has none).
    assert [x.rstrip(" ") for x in ours.stdout.split("\n")] == [x.rstrip(" ") for x in theirs.stdout.split("\n")]


def test_filter_and_format(tercel):
    cap = shared_path("data", "captures", "cat_write.scap")
    r = tercel("events", "-r", str(cap), "-p", "%evt.num %proc.name %fd.name",
               "evt.type", "in", "(open,", "close)", "and", "fd.name", "contains", "ld.so")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "141 cat /etc/ld.so.cache\n146 cat /etc/ld.so.cache\n147 cat /etc/ld.so.cache\n"


def test_format_without_star_skips_missing_values(tercel):
    cap = shared_path("data", "captures", "connect_localhost.scap")
    r = tercel("events", "-r", str(cap), "-p", "%evt.num %fd.sip", "evt.type=connect")
    assert r.stdout == "187 127.0.0.1\n"  # the enter event 186 has no address yet
    r = tercel("events", "-r", str(cap), "-p", "*%evt.num %fd.sip", "evt.type=connect")
    assert r.stdout == "186 <NA>\n187 127.0.0.1\n"


def test_json_and_count(tercel):
    cap = shared_path("data", "captures", "connect_localhost.scap")
    r = tercel("events", "-r", str(cap), "--json", "-p", "%evt.num %fd.name %fd.sport", "fd.sip=127.0.0.1")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x) for x in r.stdout.splitlines()] == [
        {"evt.num": 187, "fd.name": "127.0.0.1:47192->127.0.0.1:80", "fd.sport": 80}]
    r = tercel("events", "-r", str(cap), "-n", "2", "-p", "*%evt.num")
    assert r.stdout.split() == ["184", "185"]  # 1-183 are procinfo (internal) events, never printed


def test_errors_are_one_clear_message(tercel, tmp_path):
    cap = shared_path("data", "captures", "cat_write.scap")
    r = tercel("events", "-r", str(cap), "evt.type=open and (")
    assert r.returncode == 1
    assert r.stderr.startswith("tercel: invalid filter at offset 19:")
    assert r.stderr.splitlines()[-1] == " " * 21 + "^"
    r = tercel("events", "-r", str(cap), "proc.nme = cat")
    assert r.returncode == 1 and "proc.nme" in r.stderr
    r = tercel("events", "-r", str(cap), "-p", "%no.such")
    assert r.returncode == 1 and "invalid format" in r.stderr
    r = tercel("events", "-r", str(tmp_path / "none.scap"))
    assert r.returncode == 1 and "none.scap" in r.stderr
    junk = tmp_path / "junk.scap"
    junk.write_bytes(b"not a capture at all")
    r = tercel("events", "-r", str(junk))
    assert r.returncode == 1 and "junk.scap" in r.stderr
    for res in (r,):
        assert "Traceback" not in res.stderr
    r = tercel("events")
    assert r.returncode == 1 and "-r" in r.stderr
