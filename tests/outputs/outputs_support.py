"""Real servers on loopback for the output tests: a recording HTTP(S) server that can fail or hang,
an SMTP server (aiosmtpd, STARTTLS + AUTH), syslog receivers; plus the alerts the tests send."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tercel.engine.alert import Alert
from tercel.engine.priority import Priority

TS = 1795715283397268199  # 2026-11-26T17:48:03.397268199Z

# what an attacker controls in event data: newlines (forged lines), ANSI escapes, invalid UTF-8
# (kept as surrogateescape), shell metacharacters, Slack/HTML control sequences
HOSTILE = (
    "evil\nFAKE 00:00:00.000000000: Critical forged\r\x1b[31mred\x1b[0m \udcff\udcfe ;$(id)`id`|&><!channel>"
)


def make_alert(
    rule: str = "Test rule",
    priority: Priority = Priority.WARNING,
    message: str | None = None,
    fields: dict[str, Any] | None = None,
    ts: int = TS,
    tags: tuple[str, ...] = ("b_tag", "a_tag"),
) -> Alert:
    if fields is None:
        fields = {"proc.name": "cat", "fd.name": "/etc/shadow", "proc.pid": 42, "container.name": None}
    if message is None:
        message = " ".join(f"{k}={'<NA>' if v is None else v}" for k, v in fields.items())
    return Alert(
        time_ns=ts,
        rule=rule,
        priority=priority,
        source="syscall",
        message=message,
        output_fields=fields,
        tags=tags,
        hostname="testhost",
    )


def hostile_alert() -> Alert:
    fields = {"proc.cmdline": HOSTILE, "fd.name": "/tmp/\udcff\n", "proc.pid": 7}
    return make_alert(rule="Hostile <rule>", message=f"cmd={HOSTILE} file=/tmp/\udcff\n", fields=fields)


def wait_until(cond: Callable[[], bool], timeout: float = 5.0, step: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_cert: dict[str, Any] | None = None
    client: tuple[str, int] | None = None  # the peer address: one per connection (keep-alive check)


@dataclass
class HttpRecorder:
    tls: ssl.SSLContext | None = None
    port: int = 0
    status: int = 200
    fail_next: int = 0  # answer 503 to this many requests first
    fail_status: int = 503
    hang_s: float = 0.0  # hold every request this long (released by stop())
    response: bytes = b"ok"
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cv = threading.Condition()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/alerts"

    def start(self) -> HttpRecorder:
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if rec.hang_s:
                    rec._release.wait(rec.hang_s)
                cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
                req = Request(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    cert or None,
                    self.client_address,
                )
                with rec._cv:
                    if rec.fail_next > 0:
                        rec.fail_next -= 1
                        status = rec.fail_status
                    else:
                        status = rec.status
                        rec.requests.append(req)
                    rec._cv.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", str(len(rec.response)))
                self.end_headers()
                self.wfile.write(rec.response)

            do_POST = do_PUT = do_PATCH = _handle

        ThreadingHTTPServer.allow_reuse_address = True
        srv = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        srv.daemon_threads = True
        if self.tls is not None:
            srv.socket = self.tls.wrap_socket(srv.socket, server_side=True)
        self.port = srv.server_address[1]
        self._server = srv
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def wait_for(self, n: int, timeout: float = 5.0) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: len(self.requests) >= n, timeout)

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def http_server() -> Iterator[Callable[..., HttpRecorder]]:
    started: list[HttpRecorder] = []

    def start(**kw: Any) -> HttpRecorder:
        rec = HttpRecorder(**kw).start()
        started.append(rec)
        return rec

    yield start
    for rec in started:
        rec.stop()


@dataclass
class Pki:
    ca_file: Path
    server_ctx: ssl.SSLContext
    client_cert: Path
    client_key: Path
    mtls_ctx: ssl.SSLContext  # server context that requires a client certificate


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    trustme = pytest.importorskip("trustme", reason="trustme (dev dependency) generates the test CA")
    d = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("tercel-client@example.test")
    ca_file = d / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client_cert, client_key = d / "client.crt", d / "client.key"
    client.cert_chain_pems[0].write_to_path(str(client_cert))
    client.private_key_pem.write_to_path(str(client_key))
    for pem in server.cert_chain_pems:  # server.pem/server.key: for servers that load files (SMTP)
        pem.write_to_path(str(d / "server.pem"), append=True)
    server.private_key_pem.write_to_path(str(d / "server.key"))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.configure_cert(ctx)
    mctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.configure_cert(mctx)
    ca.configure_trust(mctx)
    mctx.verify_mode = ssl.CERT_REQUIRED
    return Pki(ca_file, ctx, client_cert, client_key, mctx)


# --- syslog receivers ---------------------------------------------------------------------------


class DatagramReceiver:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.settimeout(5.0)

    def recv(self, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        return self.sock.recv(70000)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def udp_receiver() -> Iterator[tuple[DatagramReceiver, int]]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    r = DatagramReceiver(s)
    yield r, s.getsockname()[1]
    r.close()


@pytest.fixture
def unix_receiver(tmp_path: Path) -> Iterator[tuple[DatagramReceiver, str]]:
    path = str(tmp_path / "log")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    r = DatagramReceiver(s)
    yield r, path
    r.close()
