"""Clients of the container runtimes' HTTP APIs over unix sockets (blocking; run on worker threads).

    eng = Engine("podman", "/run/podman/podman.sock")
    info = eng.inspect("3ad7b26ded6d")       # ContainerInfo, None when the runtime does not know the id
    eng.list_ids()                           # ids of every container the runtime has
    for cid in eng.events(stop): ...         # ids of containers being created/started, until stop is set

Kinds: ``docker`` (Docker Engine API), ``podman`` (its libpod API: image name and digest as the
plugin's podman engine reads them), ``cri-o`` (CRI-O's own inspect endpoint on its socket).
containerd speaks only gRPC: tercel knows its containers by id alone. Transport problems raise
``EngineError``; nothing here is ever called on the event path.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

from tercel.state import container_info as ci

DOCKER_API = "/v1.40"
MAX_BODY = 16 << 20  # one inspect answer; bigger is not a container description
MAX_EVENT_LINE = 1 << 20
KINDS = ("docker", "podman", "cri-o")


class EngineError(Exception):
    """The runtime's socket cannot be reached (``unreachable``) or answered something unusable."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(self.timeout)
            s.connect(self._path)
        except BaseException:
            s.close()
            raise
        self.sock = s


class Engine:
    def __init__(self, kind: str, path: str, *, timeout: float = 2.0,
                 label_max_len: int = ci.LABEL_MAX_LEN) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown container engine kind {kind!r} (known: {', '.join(KINDS)})")
        self.kind = kind
        self.path = path
        self.timeout = timeout
        self.label_max_len = label_max_len
        self._libpod_prefix: str | None = None
        self._lock = threading.Lock()
        self._streams: list[_UnixHTTPConnection] = []

    def __repr__(self) -> str:
        return f"Engine({self.kind!r}, {self.path!r})"

    # --- plumbing ---------------------------------------------------------------------------------
    def _request(self, path: str) -> tuple[int, bytes, http.client.HTTPResponse]:
        conn = _UnixHTTPConnection(self.path, self.timeout)
        try:
            conn.request("GET", path, headers={"Host": "localhost", "Accept": "application/json"})
            resp = conn.getresponse()
            body = resp.read(MAX_BODY + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(f"{self.kind} socket {self.path}: {exc}", unreachable=True) from None
        finally:
            conn.close()
        if len(body) > MAX_BODY:
            raise EngineError(f"{self.kind} socket {self.path}: answer to {path} is too large")
        return resp.status, body, resp

    def _get_json(self, path: str) -> Any:
        """The decoded answer; None for 404 (unknown id)."""
        status, body, _resp = self._request(path)
        if status == 404:
            return None
        if status != 200:
            raise EngineError(f"{self.kind} socket {self.path}: GET {path} answered HTTP {status}")
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise EngineError(f"{self.kind} socket {self.path}: GET {path}: invalid JSON ({exc})") from None

    def _libpod(self) -> str:
        if self._libpod_prefix is None:
            _status, _body, resp = self._request("/_ping")
            version = resp.getheader("Libpod-Api-Version") or "4.0.0"
            ok = version.replace(".", "").isalnum() and len(version) < 32
            self._libpod_prefix = f"/v{version if ok else '4.0.0'}/libpod"
        return self._libpod_prefix

    @staticmethod
    def _safe_id(cid: str) -> str:
        if not cid or len(cid) > 128 or not all(c.isalnum() or c in "-_." for c in cid):
            raise ValueError(f"not a container id: {cid[:80]!r}")
        return cid

    # --- API ------------------------------------------------------------------------------------
    def inspect(self, cid: str) -> ci.ContainerInfo | None:
        cid = self._safe_id(cid)
        try:
            if self.kind == "podman":
                obj = self._get_json(f"{self._libpod()}/containers/{cid}/json")
                return None if obj is None else ci.from_libpod(obj, label_max_len=self.label_max_len)
            if self.kind == "cri-o":
                obj = self._get_json(f"/containers/{cid}")
                return None if obj is None else ci.from_crio(obj, cid, label_max_len=self.label_max_len)
            obj = self._get_json(f"{DOCKER_API}/containers/{cid}/json")
            if obj is None:
                return None
            image = None
            ref = obj.get("Image") if isinstance(obj, dict) else None
            if isinstance(ref, str) and ref:
                try:
                    image = self._get_json(f"{DOCKER_API}/images/{urllib.parse.quote(ref, safe='')}/json")
                except EngineError:
                    image = None  # no repository/tag/digest, the rest still counts
            return ci.from_docker(obj, image, label_max_len=self.label_max_len)
        except ValueError as exc:
            raise EngineError(f"{self.kind} socket {self.path}: container {cid}: {exc}") from None

    def list_ids(self) -> list[str]:
        if self.kind == "cri-o":
            return []  # CRI-O's inspect endpoint has no listing: ids come from cgroups
        obj = self._get_json(f"{DOCKER_API}/containers/json?all=true")
        if not isinstance(obj, list):
            return []
        return [c["Id"] for c in obj if isinstance(c, dict) and isinstance(c.get("Id"), str)]

    def events(self, stop: threading.Event) -> Iterator[str]:
        """Ids of containers as they are created or started; returns when ``stop`` is set (after
        :meth:`close_streams`) or the runtime closes the stream. Raises EngineError when the stream
        cannot be opened."""
        if self.kind == "cri-o":
            return
        flt = json.dumps({"type": ["container"], "event": ["create", "start"]})
        conn = _UnixHTTPConnection(self.path, self.timeout)
        try:
            conn.request("GET", f"{DOCKER_API}/events?filters={urllib.parse.quote(flt)}")
            resp = conn.getresponse()
            if resp.status != 200:
                raise EngineError(f"{self.kind} socket {self.path}: events answered HTTP {resp.status}")
            if conn.sock is not None:
                conn.sock.settimeout(None)  # a quiet stream is fine: close_streams() ends it
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise EngineError(f"{self.kind} socket {self.path}: events: {exc}") from None
        with self._lock:
            self._streams.append(conn)
        try:
            while not stop.is_set():
                try:
                    line = resp.readline(MAX_EVENT_LINE)
                except (OSError, ValueError, http.client.HTTPException):
                    return
                if not line:
                    return
                cid = _event_id(line)
                if cid:
                    yield cid
        finally:
            with self._lock:
                if conn in self._streams:
                    self._streams.remove(conn)
            conn.close()

    def close_streams(self) -> None:
        """Unblock every events() reader (from another thread)."""
        with self._lock:
            streams = list(self._streams)
        for conn in streams:
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _event_id(line: bytes) -> str | None:
    try:
        ev = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(ev, dict):
        return None
    actor = ev.get("Actor")
    cid = actor.get("ID") if isinstance(actor, dict) else None
    if not isinstance(cid, str):
        cid = ev.get("id")
    return cid if isinstance(cid, str) and cid else None
