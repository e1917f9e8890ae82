"""From the falco.yaml mapping to configured channels (validation happens here, before any thread)."""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from tercel.engine.priority import Priority
from tercel.outputs.channels.base import Channel
from tercel.outputs.channels.email import EmailChannel, EmailOptions, check_template
from tercel.outputs.channels.http import HttpChannel, HttpClient, SlackChannel, TlsOptions, WebhookChannel
from tercel.outputs.channels.local import FileChannel, ProgramChannel, StdoutChannel, default_stdout
from tercel.outputs.channels.syslog import FACILITIES, SyslogChannel
from tercel.outputs.config import COMMON_KEYS, ConfigError, Section, check_url, unquote_url
from tercel.outputs.formats import JsonOptions
from tercel.outputs.throttle import RateLimit, ThrottleConfig
from tercel.outputs.worker import WorkerOptions

DEFAULT_QUEUE_CAPACITY = 1_000_000  # what outputs_queue.capacity: 0 ("unbounded") means here
DEFAULT_MAX_SIZE = 64 * 1024


def resolve_hostname(hostname: str | None = None) -> str:
    if hostname:
        return hostname
    for var in ("TERCEL_HOSTNAME", "FALCO_HOSTNAME"):
        v = os.environ.get(var)
        if v:
            return v
    return socket.gethostname()


@dataclass(slots=True)
class OutputsConfig:
    json_output: bool
    json_options: JsonOptions
    iso8601: bool
    buffered: bool
    queue_capacity: int
    output_timeout: float  # seconds
    min_priority: Priority
    max_size: int
    throttle: ThrottleConfig
    channels: list[tuple[Channel, WorkerOptions]] = field(default_factory=list)


def _worker_options(sec: Section, *, network: bool, default_retries: int = 5) -> WorkerOptions:
    return WorkerOptions(
        min_priority=sec.get_priority("min_priority", Priority.DEBUG),
        queue_capacity=sec.get_int("queue_capacity", 10_000, minimum=1),
        max_retries=sec.get_int("max_retries", default_retries if network else 0, minimum=0, maximum=1000),
        retry_backoff=sec.get_float("retry_backoff", 0.5),
    )


def _tls(sec: Section, *, mtls_key: bool) -> TlsOptions:
    tls = TlsOptions(
        insecure=sec.get_bool("insecure", False),
        ca_cert=sec.get_str("ca_cert", ""),
        ca_bundle=sec.get_str("ca_bundle", ""),
        ca_path=sec.get_str("ca_path", "/etc/ssl/certs" if mtls_key else ""),
    )
    # Falco: client_cert/client_key are used only when `mtls: true`; tercel also when given alone
    use = sec.get_bool("mtls", False) if mtls_key else sec.has("client_cert")
    if use:
        tls.client_cert = sec.get_str("client_cert", "/etc/ssl/certs/client.crt")
        tls.client_key = sec.get_str("client_key", "/etc/ssl/certs/client.key")
        for k, path in (("client_cert", tls.client_cert), ("client_key", tls.client_key)):
            if not os.path.isfile(path):
                raise ConfigError(sec.key(k), f"file not found: {path}")
    for k in ("ca_cert", "ca_bundle"):
        path = getattr(tls, k)
        if path and not os.path.isfile(path):
            raise ConfigError(sec.key(k), f"file not found: {path}")
    return tls


def load(
    cfg: Mapping[str, Any], *, hostname: str | None = None, stdout: BinaryIO | None = None
) -> OutputsConfig:
    if not isinstance(cfg, Mapping):
        raise ConfigError("(config)", f"expected a mapping, got {type(cfg).__name__}")
    top = Section(cfg, "")
    host = resolve_hostname(hostname)
    iso = top.get_bool("time_format_iso_8601", False)
    json_output = top.get_bool("json_output", False)
    buffered = top.get_bool("buffered_outputs", False)
    max_size = top.get_int("output_max_size", DEFAULT_MAX_SIZE, minimum=0)
    if 0 < max_size < 1024:
        raise ConfigError("output_max_size", f"must be 0 (no cap) or at least 1024, got {max_size}")
    jopts = JsonOptions(
        include_output=top.get_bool("json_include_output_property", True),
        include_output_fields=top.get_bool("json_include_output_fields_property", True),
        include_tags=top.get_bool("json_include_tags_property", True),
        include_message=top.get_bool("json_include_message_property", False),
        iso8601=iso,
        hostname=host,
        max_size=max_size,
    )
    q = top.sub("outputs_queue", frozenset({"capacity"}))
    capacity = q.get_int("capacity", 0, minimum=0) or DEFAULT_QUEUE_CAPACITY
    out = OutputsConfig(
        json_output=json_output,
        json_options=jopts,
        iso8601=iso,
        buffered=buffered,
        queue_capacity=capacity,
        output_timeout=top.get_int("output_timeout", 2000, minimum=1) / 1000.0,
        min_priority=top.get_priority("priority", Priority.DEBUG),
        max_size=max_size,
        throttle=_throttle(
            top.sub("throttling", frozenset({"enabled", "rate", "max_burst", "dedup_window", "rules"}))
        ),
    )
    chans = out.channels

    s = top.sub("stdout_output", COMMON_KEYS)
    if s.get_bool("enabled", False):
        chans.append(
            (StdoutChannel(stdout or default_stdout(), buffered=buffered), _worker_options(s, network=False))
        )

    s = top.sub("file_output", COMMON_KEYS | {"keep_alive", "filename"})
    if s.get_bool("enabled", False):
        fn = s.get_str("filename", "")
        if not fn:
            raise ConfigError(s.key("filename"), "is required when file_output is enabled")
        chans.append(
            (
                FileChannel(fn, keep_alive=s.get_bool("keep_alive", False), buffered=buffered),
                _worker_options(s, network=False),
            )
        )

    s = top.sub("syslog_output", COMMON_KEYS | {"address", "host", "port", "protocol", "facility", "ident"})
    if s.get_bool("enabled", False):
        fac = s.get_choice("facility", "user", tuple(FACILITIES))
        remote = s.get_str("host", "")
        proto = s.get_choice("protocol", "udp", ("udp", "tcp"))
        chans.append(
            (
                SyslogChannel(
                    facility=FACILITIES[fac],
                    ident=s.get_str("ident", "tercel"),
                    hostname=host,
                    address=s.get_str("address", "/dev/log"),
                    host=remote,
                    port=s.get_int("port", 514, minimum=1, maximum=65535),
                    protocol=proto,
                    timeout=s.get_float("timeout", 5.0),
                ),
                _worker_options(s, network=True, default_retries=3),
            )
        )

    s = top.sub("program_output", COMMON_KEYS | {"keep_alive", "program"})
    if s.get_bool("enabled", False):
        prog = s.get_str("program", "")
        if not prog.strip():
            raise ConfigError(s.key("program"), "is required when program_output is enabled")
        try:
            shlex.split(prog)
        except ValueError as e:
            raise ConfigError(s.key("program"), f"not a valid shell command: {e}") from None
        chans.append(
            (
                ProgramChannel(
                    prog,
                    keep_alive=s.get_bool("keep_alive", False),
                    buffered=buffered,
                    timeout=s.get_float("timeout", 30.0),
                ),
                _worker_options(s, network=False, default_retries=1),
            )
        )

    http_keys = {"url", "user_agent", "insecure", "ca_cert", "ca_bundle", "ca_path", "mtls", "client_cert",
                 "client_key", "echo", "compress_uploads", "keep_alive", "max_consecutive_timeouts"}  # fmt: skip
    s = top.sub("http_output", COMMON_KEYS | http_keys)
    if s.get_bool("enabled", False):
        url = check_url(s, "url", unquote_url(s.get_str("url", "")))
        mct = s.get_int("max_consecutive_timeouts", 5, minimum=0, maximum=255)
        client = HttpClient(
            _tls(s, mtls_key=True),
            timeout=s.get_float("timeout", 5.0),
            user_agent=s.get_str("user_agent", "falcosecurity/falco"),
        )
        chans.append(
            (
                HttpChannel(
                    url,
                    client,
                    json_output=json_output,
                    compress=s.get_bool("compress_uploads", False),
                    echo=s.get_bool("echo", False),
                    echo_stream=stdout,
                ),
                _worker_options(s, network=True, default_retries=mct),
            )
        )

    tls_keys = {"insecure", "ca_cert", "ca_bundle", "ca_path", "client_cert", "client_key"}
    s = top.sub("webhook_output", COMMON_KEYS | tls_keys | {"url", "method", "headers", "user_agent"})
    if s.get_bool("enabled", False):
        url = check_url(s, "url", unquote_url(s.get_str("url", "")))
        method = s.get_choice("method", "post", ("post", "put", "patch")).upper()
        client = HttpClient(
            _tls(s, mtls_key=False),
            timeout=s.get_float("timeout", 5.0),
            user_agent=s.get_str("user_agent", "tercel"),
        )
        chans.append(
            (
                WebhookChannel(url, client, method=method, headers=s.get_str_map("headers")),
                _worker_options(s, network=True),
            )
        )

    s = top.sub(
        "slack_output",
        COMMON_KEYS | tls_keys | {"webhook_url", "channel", "username", "icon_url", "output_format"},
    )
    if s.get_bool("enabled", False):
        url = check_url(s, "webhook_url", unquote_url(s.get_str("webhook_url", "")))
        client = HttpClient(_tls(s, mtls_key=False), timeout=s.get_float("timeout", 5.0), user_agent="tercel")
        chans.append(
            (
                SlackChannel(
                    url,
                    client,
                    channel=s.get_str("channel", ""),
                    username=s.get_str("username", ""),
                    icon_url=s.get_str("icon_url", ""),
                    output_format=s.get_choice("output_format", "all", ("all", "text", "fields")),
                    iso8601=iso,
                ),
                _worker_options(s, network=True),
            )
        )

    email_keys = {"host", "port", "tls", "username", "password", "from", "to", "subject", "digest_subject",
                  "batch_window", "max_alerts_per_mail", "insecure", "ca_cert"}  # fmt: skip
    s = top.sub("email_output", COMMON_KEYS | email_keys)
    if s.get_bool("enabled", False):
        chans.append((EmailChannel(_email(s, iso), host), _worker_options(s, network=True)))

    return out


def _email(s: Section, iso: bool) -> EmailOptions:
    host = s.get_str("host", "")
    if not host:
        raise ConfigError(s.key("host"), "is required when email_output is enabled")
    tls = s.get_choice("tls", "starttls", ("none", "starttls", "ssl"))
    sender = s.get_str("from", "")
    if "@" not in sender or any(c in sender for c in "\r\n"):
        raise ConfigError(s.key("from"), f"expected an e-mail address, got {sender!r}")
    to = s.get_str_list("to", [])
    if not to:
        raise ConfigError(s.key("to"), "needs at least one recipient")
    for addr in to:
        if "@" not in addr or any(c in addr for c in "\r\n"):
            raise ConfigError(s.key("to"), f"expected e-mail addresses, got {addr!r}")
    opts = EmailOptions(
        host=host,
        port=s.get_int(
            "port", 465 if tls == "ssl" else 587 if tls == "starttls" else 25, minimum=1, maximum=65535
        ),
        tls=tls,
        sender=sender,
        recipients=to,
        username=s.get_str("username", ""),
        password=s.get_str("password", ""),
        batch_window=s.get_float("batch_window", 30.0),
        max_alerts_per_mail=s.get_int("max_alerts_per_mail", 100, minimum=1),
        insecure=s.get_bool("insecure", False),
        ca_cert=s.get_str("ca_cert", ""),
        timeout=s.get_float("timeout", 10.0),
        iso8601=iso,
    )
    for k in ("subject", "digest_subject"):
        tmpl = s.get_str(k, getattr(opts, k))
        problem = check_template(tmpl)
        if problem:
            raise ConfigError(s.key(k), problem)
        setattr(opts, k, tmpl)
    if opts.ca_cert and not os.path.isfile(opts.ca_cert):
        raise ConfigError(s.key("ca_cert"), f"file not found: {opts.ca_cert}")
    return opts


def _throttle(s: Section) -> ThrottleConfig:
    cfg = ThrottleConfig(
        enabled=s.get_bool("enabled", False),
        rate=s.get_float("rate", 0.0),
        max_burst=s.get_int("max_burst", 10, minimum=1),
        dedup_window=s.get_float("dedup_window", 0.0),
    )
    rules = s.sub("rules")
    for name in rules.data:
        r = rules.sub(str(name), frozenset({"rate", "max_burst"}))
        rate = r.get_float("rate", cfg.rate)
        cfg.rules[str(name)] = RateLimit(
            rate=rate, burst=float(r.get_int("max_burst", cfg.max_burst, minimum=1))
        )
    return cfg
