"""E-mail over SMTP (smtplib): STARTTLS or implicit TLS, AUTH, several recipients, a subject
template, a plain-text and an HTML part. With ``batch_window`` > 0 the worker gathers the alerts
of a window into one digest, so an alert storm sends one mail, not a thousand."""

from __future__ import annotations

import html
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from tercel.engine.priority import Priority
from tercel.outputs.channels.base import Channel, Item, PermanentError, RetryableError
from tercel.outputs.formats import cap_text, escape_text, raw_line

SUBJECT_FIELDS = ("rule", "priority", "source", "hostname", "count", "message")


@dataclass(slots=True)
class EmailOptions:
    host: str
    port: int
    tls: str  # "none" | "starttls" | "ssl"
    sender: str
    recipients: list[str]
    username: str = ""
    password: str = ""
    subject: str = "[tercel] {priority} {rule} on {hostname}"
    digest_subject: str = "[tercel] {count} alerts on {hostname} (highest priority: {priority})"
    batch_window: float = 30.0
    max_alerts_per_mail: int = 100
    insecure: bool = False
    ca_cert: str = ""
    timeout: float = 10.0
    iso8601: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def check_template(template: str) -> str | None:
    """None when `template` only uses known placeholders, else the problem."""
    try:
        template.format_map(dict.fromkeys(SUBJECT_FIELDS, "x"))
    except KeyError as e:
        return f"unknown placeholder {{{e.args[0]}}} (accepted: {', '.join(SUBJECT_FIELDS)})"
    except (ValueError, IndexError) as e:
        return f"bad template: {e}"
    return None


LINE_MAX = 4000  # any one line of a mail body (a field value, an alert line)


def _safe(v: Any) -> str:
    return cap_text(escape_text("<NA>" if v is None else str(v)), LINE_MAX)


def _header_safe(s: str, limit: int = 200) -> str:
    # escape_text removes CR/LF (header injection) and other controls
    s = escape_text(s)
    return s if len(s) <= limit else s[: limit - 3] + "..."


class EmailChannel(Channel):
    name = "email"

    def __init__(self, opts: EmailOptions, hostname: str) -> None:
        self._o = opts
        self._hostname = hostname
        self.batch_window = opts.batch_window
        self.mails_sent = 0

    # --- composing ------------------------------------------------------------------------------

    def compose(self, items: list[Item]) -> EmailMessage:
        o = self._o
        alerts = [it.alert for it in items]
        top = min(a.priority for a in alerts)
        first = alerts[0]
        values = {
            "rule": first.rule if len(alerts) == 1 else f"{len({a.rule for a in alerts})} rules",
            "priority": Priority(top).label,
            "source": first.source,
            "hostname": first.hostname or self._hostname,
            "count": str(len(alerts)),
            "message": first.message,
        }
        values = {k: _header_safe(v) for k, v in values.items()}
        template = o.subject if len(alerts) == 1 else o.digest_subject
        msg = EmailMessage()
        msg["Subject"] = _header_safe(template.format_map(values), 250)
        msg["From"] = o.sender
        msg["To"] = ", ".join(o.recipients)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=o.sender.rpartition("@")[2] or None)
        shown = alerts[: o.max_alerts_per_mail]
        more = len(alerts) - len(shown)

        text_parts: list[str] = []
        html_parts: list[str] = []
        if len(alerts) > 1:
            head = f"{len(alerts)} alerts on {values['hostname']}"
            text_parts.append(head + "\n")
            html_parts.append(f"<h2>{html.escape(head)}</h2>")
        for a in shown:
            line = _safe(raw_line(a, iso8601=o.iso8601))
            text_parts.append(line)
            text_parts.append(f"  rule: {_safe(a.rule)}")
            text_parts.append(f"  priority: {a.priority.label}   source: {_safe(a.source)}")
            if a.tags:
                text_parts.append(f"  tags: {_safe(', '.join(sorted(a.tags)))}")
            for k, v in sorted(a.output_fields.items()):
                text_parts.append(f"  {_safe(k)}: {_safe(v)}")
            text_parts.append("")
            rows = "".join(
                f"<tr><th align='left'>{html.escape(_safe(k))}</th><td>{html.escape(_safe(v))}</td></tr>"
                for k, v in sorted(a.output_fields.items())
            )
            html_parts.append(
                f"<h3>{html.escape(a.priority.label)}: {html.escape(_safe(a.rule))}</h3>"
                f"<p><code>{html.escape(line)}</code></p>"
                f"<table>{rows}</table>"
            )
        if more:
            text_parts.append(f"... and {more} more alerts not shown")
            html_parts.append(f"<p>... and {more} more alerts not shown</p>")
        msg.set_content("\n".join(text_parts) + "\n")
        msg.add_alternative("<html><body>" + "".join(html_parts) + "</body></html>\n", subtype="html")
        return msg

    # --- sending --------------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        o = self._o
        ctx = ssl.create_default_context(cafile=o.ca_cert or None)
        if o.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def send_batch(self, items: list[Item]) -> None:
        o = self._o
        msg = self.compose(items)
        try:
            smtp: smtplib.SMTP
            if o.tls == "ssl":
                smtp = smtplib.SMTP_SSL(o.host, o.port, timeout=o.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(o.host, o.port, timeout=o.timeout)
            with smtp:
                if o.tls == "starttls":
                    smtp.starttls(context=self._context())
                if o.username:
                    smtp.login(o.username, o.password)
                smtp.send_message(msg, from_addr=o.sender, to_addrs=o.recipients)
        except smtplib.SMTPAuthenticationError as e:
            raise PermanentError(f"SMTP authentication failed: {e.smtp_code} {e.smtp_error!r}") from None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as e:
            raise PermanentError(f"SMTP refused: {e}") from None
        except (OSError, smtplib.SMTPException) as e:
            raise RetryableError(f"SMTP {o.host}:{o.port}: {type(e).__name__}: {e}") from None
        self.mails_sent += 1

    def send(self, item: Item) -> None:
        self.send_batch([item])
