"""The embedded web server against clients that connect and then say nothing: /healthz must keep
answering (a kubelet probe must not fail because some other connection stalls)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tercel.app.webserver import WebServer


class _Cfg:
    def __init__(self, **values: Any) -> None:
        self.values = {f"webserver.{k}": v for k, v in values.items()}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def _start(**values: Any) -> WebServer:
    return WebServer(_Cfg(listen_address="127.0.0.1", listen_port=0, **values))


@pytest.fixture
def cert(tmp_path: Path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (apt-get install openssl)")
    pem = tmp_path / "server.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(pem), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    pem.write_text(pem.read_text() + (tmp_path / "cert.pem").read_text())
    return pem


@pytest.fixture
def stalled() -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    yield socks
    for s in socks:
        s.close()


def _stall(port: int, socks: list[socket.socket]) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)  # connects, never sends a byte
    socks.append(s)


def test_port_zero_means_any_free_port() -> None:
    ws = _start().start()
    try:
        assert ws.port not in (0, 8765)
        with urllib.request.urlopen(f"http://127.0.0.1:{ws.port}/healthz", timeout=5) as resp:
            assert resp.read() == b'{"status": "ok"}'
    finally:
        ws.stop()


def test_tls_healthz_answers_while_a_client_stalls_before_its_handshake(
        cert: Path, stalled: list[socket.socket]) -> None:
    ws = _start(ssl_enabled=True, ssl_certificate=str(cert)).start()
    try:
        _stall(ws.port, stalled)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(f"https://127.0.0.1:{ws.port}/healthz", timeout=5, context=ctx) as resp:
            assert resp.read() == b'{"status": "ok"}'
    finally:
        ws.stop()


def test_tls_port_spoken_to_in_plain_http(cert: Path, capfd: pytest.CaptureFixture[str]) -> None:
    ws = _start(ssl_enabled=True, ssl_certificate=str(cert)).start()
    try:
        with socket.create_connection(("127.0.0.1", ws.port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            assert s.recv(100) == b""  # closed: no answer in clear text
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(f"https://127.0.0.1:{ws.port}/healthz", timeout=5, context=ctx) as resp:
            assert resp.read() == b'{"status": "ok"}'
    finally:
        ws.stop()
    assert "Traceback" not in capfd.readouterr().err


def test_single_thread_server_drops_a_silent_client(stalled: list[socket.socket]) -> None:
    ws = _start(threadiness=1)
    ws.request_timeout = 0.5
    ws.start()
    try:
        _stall(ws.port, stalled)
        with urllib.request.urlopen(f"http://127.0.0.1:{ws.port}/healthz", timeout=5) as resp:
            assert resp.read() == b'{"status": "ok"}'
    finally:
        ws.stop()
