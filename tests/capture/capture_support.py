"""Shared fixtures for the capture tests: the shared captures and the sysdig oracle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CAPTURES = SHARED / "data" / "captures"
OLD_CAPTURES = ["cat_write.scap", "connect_localhost.scap", "empty.scap"]
ALL_CAPTURES = [*OLD_CAPTURES, "falco044_evtgen_mix.scap"]


def capture_path(name: str) -> Path:
    p = CAPTURES / name
    if not p.is_file():
        pytest.skip(f"shared capture {p} not available (../shared missing)")
    return p


def need_sysdig() -> str:
    exe = shutil.which("sysdig")
    if exe is None:
        pytest.skip("sysdig is not installed (apt-get install sysdig)")
    return exe
