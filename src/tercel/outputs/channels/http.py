"""HTTP channels over urllib3: Falco's http_output, and tercel's webhook and Slack channels.

One connection pool per channel, reused across alerts (keep-alive), TLS verification with a CA
file/bundle/path or disabled (``insecure``), client certificates (mTLS), optional gzip upload.
2xx is success; 408/429/5xx and transport errors are retried by the worker; other statuses fail.
"""

from __future__ import annotations

import gzip
import html
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO

import urllib3

from tercel.engine.priority import Priority
from tercel.outputs.channels.base import Channel, Item, PermanentError, RetryableError, dump
from tercel.outputs.formats import cap_text, escape_text

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(slots=True)
class TlsOptions:
    insecure: bool = False
    ca_cert: str = ""  # a CA certificate file
    ca_bundle: str = ""  # a CA bundle file
    ca_path: str = ""  # a directory of hashed CA certificates
    client_cert: str = ""  # mTLS
    client_key: str = ""


class HttpClient:
    def __init__(self, tls: TlsOptions, *, timeout: float, user_agent: str, keep_alive: bool = True) -> None:
        kw: dict[str, Any] = {}
        if tls.insecure:
            kw.update(cert_reqs="CERT_NONE", assert_hostname=False)
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        else:
            kw["cert_reqs"] = "CERT_REQUIRED"
            if tls.ca_cert or tls.ca_bundle:
                kw["ca_certs"] = tls.ca_cert or tls.ca_bundle
            elif tls.ca_path:
                kw["ca_cert_dir"] = tls.ca_path
        if tls.client_cert:
            kw["cert_file"] = tls.client_cert
            kw["key_file"] = tls.client_key or None
        self._headers = {"User-Agent": user_agent}
        if not keep_alive:
            self._headers["Connection"] = "close"
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=1,
            retries=False,  # the worker retries, with backoff, without blocking other channels
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            **kw,
        )

    def request(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> bytes:
        try:
            r = self._pool.request(
                method, url, body=body, headers={**self._headers, **headers}, redirect=False
            )
        except urllib3.exceptions.HTTPError as e:
            raise RetryableError(f"{method} {url}: {type(e).__name__}: {e}") from None
        if 200 <= r.status < 300:
            return r.data
        msg = f"{method} {url}: HTTP {r.status}"
        if r.status in RETRY_STATUSES:
            raise RetryableError(msg)
        raise PermanentError(msg)

    def close(self) -> None:
        self._pool.clear()


class HttpChannel(Channel):
    """Falco's http_output: POST the alert line (JSON or text per json_output) to `url`."""

    name = "http"

    def __init__(
        self,
        url: str,
        client: HttpClient,
        *,
        json_output: bool,
        compress: bool = False,
        echo: bool = False,
        echo_stream: BinaryIO | None = None,
    ) -> None:
        self._url = url
        self._client = client
        self._headers = {"Content-Type": "application/json" if json_output else "text/plain"}
        self._compress = compress
        if compress:
            self._headers["Content-Encoding"] = "gzip"
        self._echo = echo
        self._echo_stream = echo_stream

    def send(self, item: Item) -> None:
        body = item.line.encode("utf-8", "replace")
        if self._compress:
            body = gzip.compress(body, 6)
        data = self._client.request("POST", self._url, body, self._headers)
        if self._echo and data:
            out = self._echo_stream or sys.stdout.buffer
            out.write(data)
            out.flush()

    def reopen(self) -> None:
        self._client.close()

    def close(self) -> None:
        self._client.close()


class WebhookChannel(Channel):
    """Any URL, method and headers; the body is always Falco's JSON alert."""

    name = "webhook"

    def __init__(self, url: str, client: HttpClient, *, method: str, headers: dict[str, str]) -> None:
        self._url = url
        self._client = client
        self._method = method
        self._headers = {"Content-Type": "application/json", **headers}

    def send(self, item: Item) -> None:
        self._client.request(self._method, self._url, item.json_line().encode("utf-8"), self._headers)

    def reopen(self) -> None:
        self._client.close()

    def close(self) -> None:
        self._client.close()


# Falcosidekick's Slack colours
SLACK_COLORS = {
    Priority.EMERGENCY: "#e20b0b",
    Priority.ALERT: "#ff5400",
    Priority.CRITICAL: "#ff9000",
    Priority.ERROR: "#ffc700",
    Priority.WARNING: "#ffff00",
    Priority.NOTICE: "#5bffb5",
    Priority.INFORMATIONAL: "#68c2ff",
    Priority.DEBUG: "#ccfff2",
}


SLACK_TEXT_MAX = 3000  # Slack truncates long messages; keep alerts readable and bounded
SLACK_FIELD_MAX = 500


def slack_escape(v: Any, limit: int = SLACK_FIELD_MAX) -> str:
    """Slack's three control characters (&, <, >: `<!channel>`, `<url|text>`) plus our line escaping."""
    s = "<NA>" if v is None else str(v)
    return cap_text(escape_text(html.escape(s, quote=False)), limit)


class SlackChannel(Channel):
    """Slack incoming webhook, in Falcosidekick's shape: `text` (the alert line) and/or an attachment
    with one field per output field, coloured by priority."""

    name = "slack"

    def __init__(
        self,
        url: str,
        client: HttpClient,
        *,
        channel: str = "",
        username: str = "",
        icon_url: str = "",
        output_format: str = "all",
        iso8601: bool = False,
    ) -> None:
        self._url = url
        self._client = client
        self._channel = channel
        self._username = username
        self._icon = icon_url
        self._format = output_format
        self._iso8601 = iso8601

    def payload(self, item: Item) -> dict[str, Any]:
        from tercel.outputs.formats import raw_line

        a = item.alert
        text = slack_escape(raw_line(a, iso8601=self._iso8601), SLACK_TEXT_MAX)
        p: dict[str, Any] = {}
        if self._format in ("all", "text"):
            p["text"] = text
        if self._format in ("all", "fields"):
            fields = [
                {"title": "rule", "value": slack_escape(a.rule), "short": True},
                {"title": "priority", "value": a.priority.label, "short": True},
                {"title": "source", "value": slack_escape(a.source), "short": True},
            ]
            host = a.hostname or item.json_options.hostname
            if host:
                fields.append({"title": "hostname", "value": slack_escape(host), "short": True})
            if a.tags:
                fields.append(
                    {"title": "tags", "value": slack_escape(", ".join(sorted(a.tags))), "short": False}
                )
            for k, v in sorted(a.output_fields.items()):
                fields.append({"title": slack_escape(k), "value": slack_escape(v), "short": True})
            p["attachments"] = [
                {
                    "fallback": text,
                    "color": SLACK_COLORS[a.priority],
                    "fields": fields,
                    "footer": "tercel",
                    "ts": a.time_ns // 1_000_000_000,
                }
            ]
        if self._channel:
            p["channel"] = self._channel
        if self._username:
            p["username"] = self._username
        if self._icon:
            p["icon_url"] = self._icon
        return p

    def send(self, item: Item) -> None:
        self._client.request(
            "POST", self._url, dump(self.payload(item)), {"Content-Type": "application/json"}
        )

    def reopen(self) -> None:
        self._client.close()

    def close(self) -> None:
        self._client.close()
