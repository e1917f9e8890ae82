"""The shared reference data (../shared beside the repository) for every test area: its paths, and
skips with the reason when it or sysdig is absent. Importable by name from any test (tests/conftest.py
puts this directory on sys.path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CAPTURES = SHARED / "data" / "captures"


def shared_path(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is missing (../shared is not beside the repository)")
    return p


def capture_path(name: str) -> Path:
    return shared_path("data", "captures", name)


def need_sysdig() -> str:
    exe = shutil.which("sysdig")
    if exe is None:
        pytest.skip("sysdig is not installed (apt-get install sysdig)")
    return exe
