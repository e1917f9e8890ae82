"""syslog: the local socket (/dev/log, glibc syslog(3) framing, like Falco's ::syslog()) and, as a
tercel extension, a remote collector over UDP or TCP with RFC 5424 framing (TCP: RFC 6587 octet
counting). The syslog severity is the alert priority (Falco's priorities are syslog's levels)."""

from __future__ import annotations

import datetime
import errno
import os
import socket
import time

from tercel.outputs.channels.base import Channel, Item, RetryableError

FACILITIES = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
    "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
    **{f"local{i}": 16 + i for i in range(8)},
}  # fmt: skip
MAX_DATAGRAM = 65000  # stays under the UDP payload limit


def _safe_token(s: str, default: str, limit: int) -> str:
    """RFC 5424 HOSTNAME/APP-NAME: printable US-ASCII without spaces, or NILVALUE."""
    out = "".join(c for c in s if "!" <= c <= "~")[:limit]
    return out or default


class SyslogChannel(Channel):
    name = "syslog"

    def __init__(
        self,
        *,
        facility: int,
        ident: str,
        hostname: str,
        address: str = "/dev/log",
        host: str = "",
        port: int = 514,
        protocol: str = "udp",
        timeout: float = 5.0,
    ) -> None:
        self._facility = facility
        self._ident = _safe_token(ident, "tercel", 48)
        self._hostname = _safe_token(hostname, "-", 255)
        self._address = address
        self._host = host
        self._port = port
        self._protocol = protocol if host else "unix"
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._unix_stream = False  # /dev/log may be a stream socket: glibc then sends NUL-terminated

    # --- framing --------------------------------------------------------------------------------

    def frame(self, item: Item, now: float | None = None) -> bytes:
        pri = self._facility * 8 + int(item.alert.priority)
        msg = item.line
        now = time.time() if now is None else now
        if self._protocol == "unix":
            # glibc: "<PRI>Mmm dd HH:MM:SS ident: msg" in local time, no trailing newline
            stamp = time.strftime("%b %e %H:%M:%S", time.localtime(now))
            data = f"<{pri}>{stamp} {self._ident}: {msg}".encode("utf-8", "replace")
        else:
            stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            head = f"<{pri}>1 {stamp} {self._hostname} {self._ident} {os.getpid()} - - "
            data = head.encode("ascii") + msg.encode("utf-8", "replace")
        if self._protocol != "tcp" and len(data) > MAX_DATAGRAM:
            data = data[:MAX_DATAGRAM]
        if self._protocol == "tcp":
            data = f"{len(data)} ".encode("ascii") + data
        return data

    # --- transport ------------------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        try:
            if self._protocol == "unix":
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.settimeout(self._timeout)
                try:
                    s.connect(self._address)
                    self._unix_stream = False
                except OSError as e:
                    s.close()
                    if e.errno != errno.EPROTOTYPE:
                        raise
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(self._timeout)
                    s.connect(self._address)
                    self._unix_stream = True
            else:
                kind = socket.SOCK_STREAM if self._protocol == "tcp" else socket.SOCK_DGRAM
                infos = socket.getaddrinfo(self._host, self._port, type=kind)
                family, _, proto, _, addr = infos[0]
                s = socket.socket(family, kind, proto)
                s.settimeout(self._timeout)
                s.connect(addr)
        except OSError as e:
            raise RetryableError(f"cannot reach syslog at {self._where()}: {e}") from None
        self._sock = s
        return s

    def _where(self) -> str:
        return self._address if self._protocol == "unix" else f"{self._protocol}://{self._host}:{self._port}"

    def send(self, item: Item) -> None:
        data = self.frame(item)
        s = self._connect()
        try:
            if self._protocol == "tcp":
                s.sendall(data)
            elif self._unix_stream:
                s.sendall(data + b"\0")
            else:
                s.send(data)
        except OSError as e:
            self._drop()
            raise RetryableError(f"syslog send to {self._where()} failed: {e}") from None

    def _drop(self) -> None:
        s, self._sock = self._sock, None
        if s is not None:
            s.close()

    def reopen(self) -> None:
        self._drop()

    def close(self) -> None:
        self._drop()
