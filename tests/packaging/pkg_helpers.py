"""Helpers shared by the packaging tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "packaging" / "build-deb.sh"
SYSTEM_PYTHON = "/usr/bin/python3"  # the launcher's interpreter (its #! line)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


def system_python_skip_reason() -> str | None:
    """The package runs on Debian's python3 (>= 3.11, with python3-yaml): skip where this host has none."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} missing: the packaged launcher cannot run here"
    p = run([SYSTEM_PYTHON, "-I", "-c", "import sys, yaml; sys.exit(sys.version_info < (3, 11))"])
    if p.returncode != 0:
        return f"{SYSTEM_PYTHON} is older than 3.11 or lacks python3-yaml (the package's Depends)"
    return None
