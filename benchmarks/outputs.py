"""Alerts per second through the outputs layer, end to end (submit -> formatted -> delivered).

    .venv/bin/python benchmarks/outputs.py [--n 100000] [--http-n 5000]

1. stdout channel, JSON (json_output: true) to /dev/null
2. stdout channel, text lines to /dev/null
3. http_output (JSON, keep-alive) to a local HTTP server running in a child process
Also prints the submit() cost seen by the engine thread.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tercel.engine.alert import Alert
from tercel.engine.priority import Priority
from tercel.outputs import Dispatcher

FIELDS: dict[str, Any] = {
    "container.id": "6ed7135c4bfe",
    "container.image.repository": None,
    "container.name": None,
    "evt.time.iso8601": 1795715283397268199,
    "evt.type": "openat",
    "fd.name": "/etc/shadow",
    "proc.aname[2]": "bash",
    "proc.cmdline": "cat /etc/shadow",
    "proc.exepath": "/usr/bin/cat",
    "proc.name": "cat",
    "proc.pname": "bash",
    "proc.tty": 0,
    "user.loginuid": -1,
    "user.name": "root",
    "user.uid": 0,
}
MESSAGE = "Sensitive file opened for reading by non-trusted program | " + " ".join(
    f"{k}={'<NA>' if v is None else v}" for k, v in FIELDS.items()
)
TAGS = ("T1555", "container", "filesystem", "host", "maturity_stable", "mitre_credential_access")


def alerts(n: int) -> list[Alert]:
    return [
        Alert(
            time_ns=1795715283397268199 + i,
            rule="Read sensitive file untrusted",
            priority=Priority.WARNING,
            source="syscall",
            message=MESSAGE,
            output_fields=dict(FIELDS),
            tags=TAGS,
        )
        for i in range(n)
    ]


def run(cfg: dict[str, Any], batch: list[Alert], **kw: Any) -> tuple[float, float, dict[str, Any]]:
    d = Dispatcher.from_config(cfg, hostname="bench", **kw)
    t0 = time.perf_counter()
    for a in batch:
        d.submit(a)
    t_submit = time.perf_counter() - t0
    ok = d.close(600)
    total = time.perf_counter() - t0
    assert ok, "outputs did not flush"
    return t_submit, total, d.stats()


def _serve(port_q: Any) -> None:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    port_q.put(srv.server_address[1])
    srv.serve_forever()


def report(name: str, n: int, t_submit: float, total: float, stats: dict[str, Any]) -> None:
    ch = next(iter(stats["channels"].values()))
    print(
        f"{name:<28} {n / total:>10,.0f} alerts/s end to end   "
        f"submit {t_submit / n * 1e6:5.2f} us/alert   sent={ch['sent']} dropped={ch['dropped'] + stats['queue']['dropped']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--http-n", type=int, default=5_000)
    args = ap.parse_args()
    big = {"queue_capacity": 10_000_000}

    with open("/dev/null", "wb") as null:
        batch = alerts(args.n)
        cfg = {"json_output": True, "time_format_iso_8601": True, "stdout_output": {"enabled": True, **big}}
        report("stdout JSON -> /dev/null", args.n, *run(cfg, batch, stdout=null))
        cfg = {"stdout_output": {"enabled": True, **big}}
        report("stdout text -> /dev/null", args.n, *run(cfg, batch, stdout=null))

    q: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(q,), daemon=True)
    server.start()
    try:
        port = q.get(timeout=10)
        cfg = {
            "json_output": True,
            "http_output": {"enabled": True, "url": f"http://127.0.0.1:{port}/", **big},
        }
        report("http JSON -> local server", args.http_n, *run(cfg, alerts(args.http_n)))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
