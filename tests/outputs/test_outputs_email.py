"""The e-mail channel against a real SMTP server (aiosmtpd) with STARTTLS and AUTH."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from outputs_support import Pki, free_port, hostile_alert, make_alert, wait_until

from tercel.engine.priority import Priority
from tercel.outputs import Dispatcher

aiosmtpd_controller = pytest.importorskip(
    "aiosmtpd.controller", reason="aiosmtpd (dev dependency) is the test SMTP server"
)
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

USER, PASSWORD = "alice", "s3cret"


@dataclass
class Mailbox:
    port: int
    messages: list[tuple[str, list[str], email.message.EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    cv: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cv:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
            self.cv.notify_all()
        return "250 OK"

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self.cv:
            return self.cv.wait_for(lambda: len(self.messages) >= n, timeout)


@pytest.fixture
def smtp_server(pki: Pki) -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        if ok:
            box.logins.append(auth_data.login.decode())
        return aiosmtpd_smtp.AuthResult(success=ok, handled=False)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*_server_cert_files(pki))
    ctl = aiosmtpd_controller.Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        tls_context=ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    ctl.start()
    yield box
    ctl.stop()


def _server_cert_files(pki: Pki) -> tuple[str, str]:
    # trustme's server certificate, written next to the CA for load_cert_chain
    return str(pki.ca_file.parent / "server.pem"), str(pki.ca_file.parent / "server.key")


def _cfg(box: Mailbox, pki: Pki, **kw: Any) -> dict[str, Any]:
    c = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": box.port,
        "tls": "starttls",
        "username": USER,
        "password": PASSWORD,
        "from": "tercel@example.test",
        "to": ["sec@example.test", "oncall@example.test"],
        "ca_cert": str(pki.ca_file),
        "batch_window": 0,
    }
    c.update(kw)
    return {"email_output": c, "time_format_iso_8601": True}


def test_single_mail_starttls_auth(smtp_server, pki):
    d = Dispatcher.from_config(_cfg(smtp_server, pki), hostname="h1")
    d.submit(hostile_alert())
    assert smtp_server.wait_for(1)
    assert d.close(5)
    sender, rcpts, msg = smtp_server.messages[0]
    assert sender == "tercel@example.test" and rcpts == ["sec@example.test", "oncall@example.test"]
    assert smtp_server.logins == [USER]
    # hostile rule/message cannot inject headers
    assert msg["Subject"] == "[tercel] Warning Hostile <rule> on testhost"
    assert "\n" not in msg["Subject"]
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "cmd=evil\\nFAKE" in plain and "\x1b" not in plain and "\\xff" in plain
    assert "&lt;!channel&gt;" in html and "<!channel>" not in html
    assert d.stats()["channels"]["email"]["sent"] == 1


def test_wrong_password_fails_without_retry(smtp_server, pki):
    d = Dispatcher.from_config(_cfg(smtp_server, pki, password="nope"), hostname="h1")
    d.submit(make_alert())
    assert wait_until(lambda: d.stats()["channels"]["email"]["failed"] == 1)
    st = d.stats()["channels"]["email"]
    assert st["retries"] == 0 and st["sent"] == 0 and smtp_server.messages == []
    d.close(1)


def test_storm_sends_a_digest(smtp_server, pki):
    cfg = _cfg(smtp_server, pki, batch_window=0.5, max_alerts_per_mail=20, min_priority="notice")
    d = Dispatcher.from_config(cfg, hostname="h1")
    start = time.monotonic()
    for i in range(500):
        d.submit(make_alert(rule=f"R{i % 3}", priority=Priority.CRITICAL if i == 77 else Priority.WARNING))
    d.submit(make_alert(priority=Priority.DEBUG))  # below the channel's min_priority
    assert smtp_server.wait_for(1)
    assert time.monotonic() - start >= 0.45  # waited for the window
    time.sleep(0.8)
    assert len(smtp_server.messages) == 1  # one digest, not 500 mails
    msg = smtp_server.messages[0][2]
    assert msg["Subject"] == "[tercel] 500 alerts on testhost (highest priority: Critical)"
    plain = msg.get_body(("plain",)).get_content()
    assert plain.startswith("500 alerts on testhost")
    assert plain.count("Warning") + plain.count("Critical") >= 20
    assert "... and 480 more alerts not shown" in plain
    assert d.close(5)
    st = d.stats()["channels"]["email"]
    assert st["sent"] == 500 and st["filtered"] == 1


def test_digest_flushed_at_shutdown(smtp_server, pki):
    d = Dispatcher.from_config(_cfg(smtp_server, pki, batch_window=60), hostname="h1")
    for _ in range(3):
        d.submit(make_alert())
    time.sleep(0.2)
    t0 = time.monotonic()
    assert d.close(5)  # the 60 s window is cut short by shutdown
    assert time.monotonic() - t0 < 4
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0][2]["Subject"].startswith("[tercel] 3 alerts")


def test_implicit_tls(pki):
    box = Mailbox(port=free_port())
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*_server_cert_files(pki))
    ctl = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=box.port, ssl_context=ctx)
    try:
        ctl.start()
    except Exception as e:  # aiosmtpd's own readiness probe may not speak implicit TLS
        pytest.skip(f"aiosmtpd cannot start an implicit-TLS server here: {e}")
    try:
        cfg = _cfg(box, pki, tls="ssl", username="")
        d = Dispatcher.from_config(cfg, hostname="h1")
        d.submit(make_alert(priority=Priority.ERROR))
        assert box.wait_for(1)
        assert d.close(5)
        assert box.messages[0][2]["Subject"] == "[tercel] Error Test rule on testhost"
    finally:
        ctl.stop()
