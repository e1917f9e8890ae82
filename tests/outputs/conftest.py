"""Fixtures for the output tests (the servers themselves live in outputs_support.py)."""

from outputs_support import http_server, pki, udp_receiver, unix_receiver

__all__ = ["http_server", "pki", "udp_receiver", "unix_receiver"]
