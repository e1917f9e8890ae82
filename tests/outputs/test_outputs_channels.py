"""Each channel against a real receiver: the exact bytes it gets, hostile values included."""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from outputs_support import hostile_alert, make_alert, wait_until

from tercel.engine.priority import Priority
from tercel.outputs import Dispatcher, JsonOptions, format_json, format_text

ALERTS = [make_alert(), make_alert(rule="Second", priority=Priority.CRITICAL, message="x=1"), hostile_alert()]


def _text(a, iso=True):
    return format_text(a, iso8601=iso)


def _send(cfg: dict, alerts=ALERTS, **kw) -> Dispatcher:
    d = Dispatcher.from_config({"time_format_iso_8601": True, **cfg}, hostname="testhost", **kw)
    for a in alerts:
        d.submit(a)
    return d


def test_stdout_subprocess_real_fd():
    """The default stdout channel writes to the process's real stdout, one line per alert."""
    code = textwrap.dedent(
        """
        import sys
        sys.path[:0] = [sys.argv[1]]
        from outputs_support import hostile_alert, make_alert
        from tercel.outputs import Dispatcher
        d = Dispatcher.from_config({"stdout_output": {"enabled": True}, "json_output": True})
        d.submit(make_alert()); d.submit(hostile_alert())
        assert d.close(5)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True, timeout=60, check=True
    ).stdout
    opts = JsonOptions(hostname="testhost")
    assert (
        out == (format_json(make_alert(), opts) + "\n" + format_json(hostile_alert(), opts) + "\n").encode()
    )


def test_stdout_text_and_priority_filter(tmp_path):
    path = tmp_path / "out"
    with open(path, "wb") as f:
        d = _send({"stdout_output": {"enabled": True, "min_priority": "error"}}, stdout=f)
        assert d.close(5)
    assert path.read_bytes() == (_text(ALERTS[1]) + "\n").encode()
    st = d.stats()["channels"]["stdout"]
    assert st["sent"] == 1 and st["filtered"] == 2


def test_file_exact_bytes_and_reopen(tmp_path):
    path = tmp_path / "events.txt"
    d = _send({"file_output": {"enabled": True, "filename": str(path), "keep_alive": True}})
    assert wait_until(lambda: d.stats()["channels"]["file"]["sent"] == 3)
    expected = "".join(_text(a) + "\n" for a in ALERTS).encode()
    assert path.read_bytes() == expected
    # log rotation: move the file away, SIGUSR1 -> reopen, new alerts land in a new file
    rotated = tmp_path / "events.txt.1"
    path.rename(rotated)
    d.reopen()
    d.submit(ALERTS[0])
    assert d.close(5)
    assert rotated.read_bytes() == expected
    assert path.read_bytes() == (_text(ALERTS[0]) + "\n").encode()


def test_file_json_without_keep_alive(tmp_path):
    path = tmp_path / "events.json"
    d = _send({"file_output": {"enabled": True, "filename": str(path)}, "json_output": True})
    assert d.close(5)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4
    assert [json.loads(x)["rule"] for x in lines[:3]] == ["Test rule", "Second", "Hostile <rule>"]
    assert lines[0].decode() == format_json(ALERTS[0], JsonOptions(hostname="testhost", iso8601=True))


@pytest.mark.parametrize("keep_alive", [False, True])
def test_program_gets_alerts_on_stdin(tmp_path, keep_alive):
    out = tmp_path / "prog.out"
    pids = tmp_path / "pids"
    # the shell runs the configured command; alerts (with `$(id)`, `;`, backquotes) only reach stdin
    prog = f"echo $$ >> {shlex.quote(str(pids))}; cat >> {shlex.quote(str(out))}"
    d = _send({"program_output": {"enabled": True, "program": prog, "keep_alive": keep_alive}})
    assert d.close(10)
    assert out.read_bytes() == "".join(_text(a) + "\n" for a in ALERTS).encode()
    assert len(pids.read_text().split()) == (1 if keep_alive else 3)
    assert d.stats()["channels"]["program"]["sent"] == 3


def test_program_keep_alive_restarted_by_reopen(tmp_path):
    pids = tmp_path / "pids"
    out = tmp_path / "prog.out"
    prog = f"echo $$ >> {shlex.quote(str(pids))}; cat >> {shlex.quote(str(out))}"
    d = _send({"program_output": {"enabled": True, "program": prog, "keep_alive": True}}, alerts=ALERTS[:1])
    assert wait_until(lambda: out.exists() and out.stat().st_size > 0)
    d.reopen()
    assert wait_until(lambda: pids.exists() and len(pids.read_text().split()) == 2)
    d.submit(ALERTS[1])
    assert d.close(10)
    assert out.read_bytes() == (_text(ALERTS[0]) + "\n" + _text(ALERTS[1]) + "\n").encode()


def test_syslog_unix_socket(unix_receiver):
    recv, path = unix_receiver
    d = _send({"syslog_output": {"enabled": True, "address": path, "facility": "local3", "ident": "falco"}})
    for a in ALERTS:
        dgram = recv.recv()
        pri = 19 * 8 + int(a.priority)
        m = re.fullmatch(rb"<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) falco: (.*)", dgram, re.S)
        assert m, dgram
        assert int(m.group(1)) == pri
        assert m.group(3) == _text(a).encode()  # no trailing newline, hostile data escaped
    assert d.close(2)


def test_syslog_remote_udp_rfc5424_json(udp_receiver):
    recv, port = udp_receiver
    cfg = {"syslog_output": {"enabled": True, "host": "127.0.0.1", "port": port}, "json_output": True}
    d = _send(cfg)
    for a in ALERTS:
        dgram = recv.recv()
        m = re.fullmatch(
            rb"<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) testhost tercel (\d+) - - (.*)", dgram, re.S
        )
        assert m, dgram
        assert int(m.group(1)) == 8 + int(a.priority)  # facility user
        assert int(m.group(3)) == os.getpid()
        assert m.group(4) == format_json(a, JsonOptions(hostname="testhost", iso8601=True)).encode()
    assert d.close(2)


def test_syslog_remote_tcp_octet_counting():
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    port = srv.getsockname()[1]
    d = _send({"syslog_output": {"enabled": True, "host": "127.0.0.1", "port": port, "protocol": "tcp"}})
    conn, _ = srv.accept()
    conn.settimeout(5)
    buf = b""
    frames = []
    while len(frames) < 3:
        buf += conn.recv(65536)
        while b" " in buf:
            n, _, rest = buf.partition(b" ")
            if len(rest) < int(n):
                break
            frames.append(rest[: int(n)])
            buf = rest[int(n) :]
    assert [f.split(b" - - ", 1)[1] for f in frames] == [_text(a).encode() for a in ALERTS]
    d.close(2)
    conn.close()
    srv.close()


def test_http_text_and_json(http_server):
    srv = http_server()
    d = _send({"http_output": {"enabled": True, "url": f'"{srv.url}"', "user_agent": "ua/1"}})
    assert srv.wait_for(3)
    assert [r.body for r in srv.requests] == [_text(a).encode() for a in ALERTS]
    r = srv.requests[0]
    assert r.method == "POST" and r.path == "/alerts"
    assert r.headers["Content-Type"] == "text/plain" and r.headers["User-Agent"] == "ua/1"
    assert len({r.client for r in srv.requests}) == 1  # one kept-alive connection
    d.close(2)

    srv2 = http_server()
    d = _send(
        {"http_output": {"enabled": True, "url": srv2.url, "compress_uploads": True}, "json_output": True}
    )
    assert srv2.wait_for(3)
    r = srv2.requests[2]
    assert r.headers["Content-Type"] == "application/json" and r.headers["Content-Encoding"] == "gzip"
    assert (
        gzip.decompress(r.body)
        == format_json(ALERTS[2], JsonOptions(hostname="testhost", iso8601=True)).encode()
    )
    d.close(2)


def test_http_echo(http_server, tmp_path):
    srv = http_server(response=b"ECHO\n")
    with open(tmp_path / "echo", "wb") as f:
        d = _send(
            {"http_output": {"enabled": True, "url": srv.url, "echo": True}}, alerts=ALERTS[:2], stdout=f
        )
        assert d.close(5)
    assert (tmp_path / "echo").read_bytes() == b"ECHO\nECHO\n"


def test_https_with_ca_and_mtls(http_server, pki):
    srv = http_server(tls=pki.server_ctx)
    d = _send(
        {"http_output": {"enabled": True, "url": srv.url, "ca_cert": str(pki.ca_file)}}, alerts=ALERTS[:1]
    )
    assert srv.wait_for(1)
    d.close(2)
    # without trusting the CA the certificate is refused...
    srv_b = http_server(tls=pki.server_ctx)
    d = _send({"http_output": {"enabled": True, "url": srv_b.url, "max_retries": 0}}, alerts=ALERTS[:1])
    assert wait_until(lambda: d.stats()["channels"]["http"]["failed"] == 1)
    assert srv_b.requests == []
    d.close(1)
    # ... unless insecure
    d = _send({"http_output": {"enabled": True, "url": srv_b.url, "insecure": True}}, alerts=ALERTS[:1])
    assert srv_b.wait_for(1)
    d.close(2)
    # mTLS: the server demands a client certificate signed by the CA
    srv_m = http_server(tls=pki.mtls_ctx)
    cfg = {
        "enabled": True,
        "url": srv_m.url,
        "ca_cert": str(pki.ca_file),
        "mtls": True,
        "client_cert": str(pki.client_cert),
        "client_key": str(pki.client_key),
    }
    d = _send({"http_output": cfg}, alerts=ALERTS[:1])
    assert srv_m.wait_for(1)
    assert srv_m.requests[0].client_cert is not None
    d.close(2)
    cfg["mtls"] = False  # Falco ignores client_cert unless mtls is true: the handshake fails
    d = _send({"http_output": {**cfg, "max_retries": 0}}, alerts=ALERTS[:1])
    assert wait_until(lambda: d.stats()["channels"]["http"]["failed"] == 1)
    d.close(1)


def test_webhook_method_headers_body(http_server):
    srv = http_server()
    cfg = {
        "enabled": True,
        "url": srv.url,
        "method": "put",
        "headers": {"Authorization": "Bearer t0k", "X-A": 1},
    }
    d = _send({"webhook_output": cfg})  # json_output is off: the webhook still sends JSON
    assert srv.wait_for(3)
    opts = JsonOptions(hostname="testhost", iso8601=True)
    assert [r.body for r in srv.requests] == [format_json(a, opts).encode() for a in ALERTS]
    r = srv.requests[0]
    assert r.method == "PUT" and r.headers["Authorization"] == "Bearer t0k" and r.headers["X-A"] == "1"
    assert r.headers["Content-Type"] == "application/json"
    d.close(2)


def test_slack_payload(http_server):
    srv = http_server()
    cfg = {"enabled": True, "webhook_url": srv.url, "channel": "#sec", "min_priority": "warning"}
    d = _send({"slack_output": cfg}, alerts=[hostile_alert(), make_alert(priority=Priority.DEBUG)])
    assert srv.wait_for(1)
    d.close(2)
    assert len(srv.requests) == 1
    p = json.loads(srv.requests[0].body)
    assert p["channel"] == "#sec"
    # Slack control sequences are neutralised, the text stays on one line
    assert "<!channel>" not in p["text"] and "&lt;!channel&gt;" in p["text"]
    assert "\n" not in p["text"] and "\x1b" not in p["text"]
    att = p["attachments"][0]
    assert att["color"] == "#ffff00"
    fields = {f["title"]: f["value"] for f in att["fields"]}
    assert fields["rule"] == "Hostile &lt;rule&gt;" and fields["priority"] == "Warning"
    assert fields["proc.pid"] == "7" and fields["tags"] == "a_tag, b_tag"


def test_slack_caps_huge_alerts(http_server):
    srv = http_server()
    big = "B" * 200_000
    d = _send(
        {"slack_output": {"enabled": True, "webhook_url": srv.url}},
        alerts=[make_alert(message=big, fields={"f": big})],
    )
    assert srv.wait_for(1)
    d.close(2)
    p = json.loads(srv.requests[0].body)
    assert len(p["text"]) == 3000 and p["text"].endswith("...[truncated]")
    assert len(srv.requests[0].body) < 10_000


def test_syslog_unix_stream_socket(tmp_path):
    """Some syslog daemons listen on a stream socket: messages are then NUL-terminated, as glibc does."""
    import socket

    path = str(tmp_path / "log")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(5)
    d = _send({"syslog_output": {"enabled": True, "address": path}}, alerts=ALERTS[:2])
    conn, _ = srv.accept()
    conn.settimeout(5)
    buf = b""
    while buf.count(b"\0") < 2:
        buf += conn.recv(65536)
    msgs = buf.split(b"\0")[:2]
    assert [m.split(b" tercel: ", 1)[1] for m in msgs] == [_text(a).encode() for a in ALERTS[:2]]
    assert d.close(2)
    conn.close()
    srv.close()
