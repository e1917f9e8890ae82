"""The embedded web server (``webserver.*``): Falco's health and version endpoints.

    GET /healthz   (webserver.k8s_healthz_endpoint)  -> {"status": "ok"}
    GET /versions                                    -> the --version JSON
    GET /metrics   (webserver.prometheus_metrics_enabled and metrics.enabled) -> Prometheus text

One daemon thread (``ThreadingHTTPServer`` for ``threadiness`` != 1), bound to ``listen_address`` and
``listen_port``; optional TLS with ``ssl_enabled`` and ``ssl_certificate`` (a PEM with key and cert, as
Falco's). Started for live and nodriver runs, stopped with them."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any

from tercel.app import info, log
from tercel.app.errors import AppError


class WebServer:
    def __init__(self, cfg: Any, metrics: Callable[[], str] | None = None) -> None:
        self.address = str(cfg.get("webserver.listen_address") or "0.0.0.0")
        port = cfg.get("webserver.listen_port")
        self.port = 8765 if port is None or port == "" else int(port)  # 0: any free port
        self.healthz = str(cfg.get("webserver.k8s_healthz_endpoint") or "/healthz")
        self.tls = bool(cfg.get("webserver.ssl_enabled"))
        self.cert = str(cfg.get("webserver.ssl_certificate") or "")
        self.threaded = int(cfg.get("webserver.threadiness") or 0) != 1
        prom = bool(cfg.get("webserver.prometheus_metrics_enabled")) and bool(cfg.get("metrics.enabled"))
        self.metrics = metrics if prom else None
        # a client that connects and then stays silent is dropped after this long (with
        # threadiness 1 it would hold the only thread, and so /healthz, until it spoke)
        self.request_timeout = 10.0
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        healthz = self.healthz
        versions = info.version_json().encode()
        metrics = self.metrics
        timeout = self.request_timeout

        class Handler(BaseHTTPRequestHandler):
            server_version = "tercel"
            sys_version = ""

            def handle(self) -> None:
                try:
                    super().handle()
                except OSError as exc:  # a failed TLS handshake, a reset: that client's problem alone
                    log.debug(f"webserver: {self.client_address[0]}: {exc}")

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == healthz:
                    self._send(200, b'{"status": "ok"}')
                elif path == "/versions":
                    self._send(200, versions)
                elif path == "/metrics" and metrics is not None:
                    self._send(200, metrics().encode(), "text/plain; version=0.0.4")
                else:
                    self._send(404, b'{"error": "not found"}')

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("webserver: " + format % args)

        Handler.timeout = timeout  # socketserver applies it to each connection
        return Handler

    def start(self) -> WebServer:
        cls = ThreadingHTTPServer if self.threaded else HTTPServer
        try:
            server = cls((self.address, self.port), self._handler())
        except OSError as exc:
            raise AppError(f"webserver: cannot listen on {self.address}:{self.port}: {exc.strerror or exc}") \
                from None
        if self.tls:
            try:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.cert)
            except (OSError, ssl.SSLError) as exc:
                server.server_close()
                raise AppError(f"webserver: cannot load ssl_certificate {self.cert}: {exc}") from None
            # the handshake happens in the handler, under its timeout: done in accept() it would
            # stall the listening thread on any client that connects and sends nothing
            server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, name="tercel-webserver", daemon=True)
        self._thread.start()
        scheme = "https" if self.tls else "http"
        log.info(f"Starting internal webserver, listening on {scheme}://{self.address}:{self.port}")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def start_if_enabled(cfg: Any, metrics: Callable[[], str] | None = None) -> WebServer | None:
    if not cfg.get("webserver.enabled"):
        return None
    return WebServer(cfg, metrics).start()

