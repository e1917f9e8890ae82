"""The embedded web server against clients that connect and then say nothing: /healthz must keep
answering (a kubelet probe must not fail because some other connection stalls)."""

from __future__ import annotations

import shutil
import socket
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
