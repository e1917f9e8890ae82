"""Shared fixtures for the capture tests: which shared captures they read (paths and the sysdig
oracle come from tests/shared_data.py)."""

from __future__ import annotations

from shared_data import capture_path, need_sysdig

OLD_CAPTURES = ["cat_write.scap", "connect_localhost.scap", "empty.scap"]
ALL_CAPTURES = [*OLD_CAPTURES, "falco044_evtgen_mix.scap"]

__all__ = ["ALL_CAPTURES", "OLD_CAPTURES", "capture_path", "need_sysdig"]
