"""A runtime socket that answers badly (errors, invalid JSON, oversized or slow answers, garbage event
lines): the client raises EngineError or skips, the store records the error and keeps working."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tercel.state import container_engines as ce
from tercel.state.container_engines import Engine, EngineError
from tercel.state.container_meta import ContainerMetadata

GOOD = {"Id": "ab" * 32, "Name": "/ok", "Config": {"Image": "x:1", "Labels": {}}}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    routes: dict[str, tuple[int, bytes, float]] = {}

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early (timeouts, stop()) are part of the test


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_a: object) -> None:
        pass

    def address_string(self) -> str:  # unix sockets have no (host, port)
        return "unix"

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        status, body, delay = self.server.routes.get(path, (404, b'{"message":"no such container"}', 0.0))  # type: ignore[attr-defined]
        time.sleep(delay)
        self.send_response(status)
        if path.endswith("/events"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in body.split(b"\n"):
                chunk = line + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    srv = _Server(str(tmp_path / "rt.sock"), _Handler)
    srv.routes = {}
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _path(srv: _Server) -> str:
    return str(srv.server_address)


def test_bad_answers_raise_engine_error(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    eng = Engine("docker", _path(server), timeout=0.5)
    assert eng.inspect("abababababab") is None  # 404: unknown here
    server.routes["/v1.40/containers/abababababab/json"] = (500, b"{}", 0.0)
    with pytest.raises(EngineError, match="HTTP 500"):
        eng.inspect("abababababab")
    server.routes["/v1.40/containers/abababababab/json"] = (200, b"{not json", 0.0)
    with pytest.raises(EngineError, match="invalid JSON"):
        eng.inspect("abababababab")
    server.routes["/v1.40/containers/abababababab/json"] = (200, b"[1, 2]", 0.0)
    with pytest.raises(EngineError):
        eng.inspect("abababababab")
    monkeypatch.setattr(ce, "MAX_BODY", 1000)
    server.routes["/v1.40/containers/abababababab/json"] = (200, b" " * 5000, 0.0)
    with pytest.raises(EngineError, match="too large"):
        eng.inspect("abababababab")
    server.routes["/v1.40/containers/abababababab/json"] = (200, json.dumps(GOOD).encode(), 2.0)
    t0 = time.monotonic()
    with pytest.raises(EngineError):
        eng.inspect("abababababab")
    assert time.monotonic() - t0 < 1.5  # the request timeout, not the server's delay
    with pytest.raises(ValueError):
        eng.inspect("../../etc")  # never put into a request path
    server.routes["/v1.40/containers/abababababab/json"] = (200, json.dumps(GOOD).encode(), 0.0)
    info = eng.inspect("abababababab")
    assert info is not None and info.name == "ok" and info.image_repo == ""  # image answer 404


def test_store_survives_a_bad_runtime_and_reads_events(server: _Server) -> None:
    server.routes["/v1.40/containers/json"] = (200, b'[{"Id": 5}, "x", {"Id": "' + b"cd" * 32 + b'"}]', 0.0)
    server.routes["/v1.40/containers/" + "cd" * 32 + "/json"] = (200, b"{}", 0.0)  # no Id: malformed
    server.routes["/v1.40/events"] = (200, b'garbage\n{"Actor": {"ID": "' + b"ab" * 32 + b'"}}\n[]', 0.0)
    # an event names the full id: that is what the runtime is asked about
    server.routes["/v1.40/containers/" + "ab" * 32 + "/json"] = (200, json.dumps(GOOD).encode(), 0.0)
    with ContainerMetadata([Engine("docker", _path(server), timeout=0.5)]) as meta:
        end = time.monotonic() + 5
        while "ab" * 6 not in meta.known() and time.monotonic() < end:
            time.sleep(0.02)
        assert meta.known() == ["ab" * 6]  # from the event stream; the malformed one was skipped
        assert any("without an Id" in e for e in meta.errors), meta.errors


def test_crio_is_asked_with_the_full_id_from_cgroups(server: _Server) -> None:
    """CRI-O's inspect endpoint knows full ids only: a miss asks with the id in the thread's cgroups."""
    from tercel.state.containers import full_id_from_cgroups

    full = "ef" * 32
    cgroups = (("cpu", f"/kubepods.slice/kubepods-pod1.slice/crio-{full}.scope"), ("memory", "/"))
    assert full_id_from_cgroups(cgroups) == full
    assert full_id_from_cgroups((("cpu", "/process_api/" + "a" * 32),)) is None
    server.routes["/containers/" + full] = (200, json.dumps({
        "name": "k8s_app_p", "image": "quay.io/a/b:1", "sandbox": "12" * 32,
        "labels": {"io.kubernetes.container.name": "app", "io.kubernetes.pod.name": "p",
                   "io.kubernetes.pod.namespace": "ns"}}).encode(), 0.0)
    with ContainerMetadata([Engine("cri-o", _path(server), timeout=0.5)]) as meta:
        assert meta.get(full[:12], cgroups) is None
        end = time.monotonic() + 5
        while meta.get(full[:12]) is None and time.monotonic() < end:
            time.sleep(0.02)
        info = meta.get(full[:12])
        assert info is not None and (info.type, info.name, info.full_id, info.image_repo) == ("cri-o", "app", full, "quay.io/a/b")
        assert info.labels["io.kubernetes.pod.namespace"] == "ns" and info.pod_sandbox_id == "12" * 32
