"""Fixtures for the event-table and decoding tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
CAPTURES = SHARED / "data" / "captures"


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
