"""The command line as users run it: flags, help, version, listings, config errors (subprocess)."""

from __future__ import annotations

import json
import os

import pytest


def test_help_lists_falco_and_removed_flags(tercel):
    r = tercel("-h")
    assert r.returncode == 0
    for flag in ("-V RULES", "--validate", "-r RULES", "-L", "-l RULE", "--list [SOURCE]", "-N", "--version",
                 "-o KEY=VALUE", "--dry-run", "--support", "--page-size", "--list-events", "-i",
                 "-e CAPTURE", "-D SUBSTRING", "-t TAG", "-T TAG", "-A", "-S LEN", "-M SECONDS",
                 "tercel events -r CAPTURE", "tercel capture -w FILE"):
        assert flag in r.stdout, flag


def test_version_text_and_json(tercel):
    r = tercel("--version")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0].startswith("Tercel version: ")
    assert "Engine:        0.63.0" in r.stdout
    r = tercel("-o", "json_output=true", "--version")
    assert r.returncode == 0
    v = json.loads(r.stdout)
    assert v["engine_version_semver"] == "0.63.0" and v["engine_version"] == "63"
    assert {"falco_version", "libs_version", "plugin_api_version", "driver_api_version"} <= set(v)


def test_page_size(tercel):
    r = tercel("--page-size")
    assert r.returncode == 0
    assert r.stdout == f"Your system page size is: {os.sysconf('SC_PAGE_SIZE')} bytes\n"


def test_ignored_events(tercel):
    r = tercel("-i")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "Ignored Event(s):"
    assert "- read" in lines and "- write" in lines and "- sendto" in lines
    assert "- execve" not in lines and "- openat" not in lines


def test_list_fields_names_and_text(tercel):
    r = tercel("--list", "-N")
    assert r.returncode == 0
    names = r.stdout.split()
    for f in ("evt.type", "proc.name", "proc.aname", "fd.name", "user.name", "container.id"):
        assert f in names
    r = tercel("--list", "syscall")
    assert r.returncode == 0
    assert "Field Class:                  process" in r.stdout
    assert "proc.aname[N]" in r.stdout or "proc.aname" in r.stdout
    r = tercel("--list", "k8s_audit")
    assert r.returncode == 1
    assert "Value for --list must be a valid source type" in r.stderr
    r = tercel("--list", "--format", "json")
    assert r.returncode == 0
    classes = json.loads(r.stdout)
    assert any(c["name"] == "fd" and any(f["name"] == "fd.name" for f in c["fields"]) for c in classes)


def test_config_errors_are_one_located_line(tercel, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("json_output: true\nstdout_output:\n  enabled: [1]\n")
    r = tercel("-c", str(cfg), "--dry-run")
    assert r.returncode == 1
    assert r.stderr.strip() == (f"tercel: configuration error: {cfg}:3:12: key 'stdout_output.enabled': "
                                "expected a boolean (true/false), got a list")
    assert "Traceback" not in r.stderr
    r = tercel("-o", "rule_matching=best", "--version")
    assert r.returncode == 1
    assert "command line option -o rule_matching=best" in r.stderr and "Traceback" not in r.stderr
    r = tercel("-c", str(tmp_path / "missing.yaml"), "--version")
    assert r.returncode == 1 and "cannot read file" in r.stderr


def test_bad_flags(tercel):
    r = tercel("--no-such-flag")
    assert r.returncode == 1
    assert "unrecognized arguments: --no-such-flag" in r.stderr
    r = tercel("-t", "a", "-T", "b", "--version")
    assert r.returncode == 1 and "-t cannot be combined" in r.stderr


def test_support_is_json(tercel, tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text("- list: l\n  items: [a]\n")
    r = tercel("--support", "-r", str(rules))
    assert r.returncode == 0
    s = json.loads(r.stdout)
    assert s["engine_info"]["engine_version_semver"] == "0.63.0"
    assert s["rules_files"] == [{"name": str(rules), "content": "- list: l\n  items: [a]\n"}]
    assert "stdout_output" in s["config"]


def test_schemas(tercel):
    r = tercel("--config-schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert schema["properties"]["json_output"] == {"type": "boolean"}
    assert schema["additionalProperties"] is False
    r = tercel("--rule-schema")
    assert r.returncode == 0 and json.loads(r.stdout)["type"] == "array"


def test_live_without_privileges_is_one_line(tercel):
    """`tercel` with no arguments starts live monitoring; without root it must say why, in one line."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv (util-linux) is missing to drop privileges")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                            sys.executable, "-m", "tercel"], capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    else:
        r = tercel()
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("tercel: live capture is not available") and "Traceback" not in r.stderr


def test_unsupported_engine_kind(tercel, tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text("- list: l\n  items: [a]\n")
    r = tercel("-o", "engine.kind=gvisor", "-r", str(rules))
    assert r.returncode == 1
    assert "not supported" in r.stderr or "not available" in r.stderr


def test_list_events(tercel):
    r = tercel("--list-events")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Syscall events:"
    assert "< execve(" in r.stdout and "> open(FSPATH name, FLAGS32 flags, UINT32 mode)" in lines
    meta = lines[lines.index("Metaevents:") + 1:]
    assert any(x.startswith("> procexit(") for x in meta)
    r = tercel("--list-events", "--format", "json")
    rows = json.loads(r.stdout)
    assert {"name": "close", "dir": ">", "category": "syscall", "params": ["FD fd"]} in rows


def test_progress_display_only_on_a_terminal():
    import io

    from tercel.app.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet = io.StringIO()
    p = Progress("Replaying x", total=1000, stream=quiet, delay=0)
    p.update(10, 500)
    p.done()
    assert quiet.getvalue() == ""
    tty = Tty()
    p = Progress("Replaying x", total=1000, stream=tty, delay=0)
    p.update(5000, 500)
    p.done()
    out = tty.getvalue()
    assert out.startswith("\rReplaying x [###############---------------]  50.0% 5000 events")
    assert out.endswith("\r\x1b[K")


def test_event_sources(tercel):
    r = tercel("--disable-source", "syscall", "--version")
    assert r.returncode == 1 and "at least one event source" in r.stderr
    r = tercel("--enable-source", "k8s_audit", "--version")
    assert r.returncode == 1 and "unknown event source: k8s_audit" in r.stderr
    assert tercel("--enable-source", "syscall", "--version").returncode == 0


def test_config_warnings_reach_stderr(tercel, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("log_stderr: false\njson_ouput: true\n")
    r = tercel("-c", str(cfg), "--version")
    assert r.returncode == 0
    assert f"tercel: warning: {cfg}:2:1: unknown configuration key 'json_ouput'" in r.stderr


def test_nodriver_with_webserver(tmp_path):
    """engine.kind=nodriver: rules and outputs load, no events; the web server answers /healthz,
    /versions and /metrics on loopback until SIGTERM."""
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    rules = tmp_path / "r.yaml"
    rules.write_text("- list: l\n  items: [a]\n")
    p = subprocess.Popen([sys.executable, "-m", "tercel", "-r", str(rules), "-o", "engine.kind=nodriver",
                          "-o", "webserver.enabled=true", "-o", "webserver.listen_address=127.0.0.1",
                          "-o", "webserver.listen_port=0", "-o", "log_stderr=true", "-o", "metrics.enabled=true",
                          "-o", "webserver.prometheus_metrics_enabled=true"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = None
    assert p.stderr is not None
    for _ in range(50):
        line = p.stderr.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "the web server did not start"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
        assert resp.status == 200 and json.loads(resp.read()) == {"status": "ok"}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/versions", timeout=10) as resp:
        assert json.loads(resp.read())["engine_version_semver"] == "0.63.0"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        assert "falcosecurity_falco_memory_rss_mb " in resp.read().decode()
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 0
    assert out == "Events detected: 0\nRule counts by severity:\nTriggered rules by rule name:\n"
