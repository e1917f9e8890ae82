"""Helpers for the app tests: run the real `tercel` command as a subprocess (../shared: shared_data)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared_data import shared_path

REPO = Path(__file__).resolve().parents[2]


def run_tercel(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("TERCEL_HOSTNAME", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "tercel", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL)


__all__ = ["REPO", "run_tercel", "shared_path"]
