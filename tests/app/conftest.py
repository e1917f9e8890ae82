"""Helpers for the app tests: run the real `tercel` command as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"


def run_tercel(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("TERCEL_HOSTNAME", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "tercel", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def tercel():
    return run_tercel


def shared_path(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is missing (../shared is not beside the repository)")
    return p


def engine_ready() -> str | None:
    """None when the rule engine facade is importable, else why not."""
    try:
        import tercel.engine.rules as rules
    except ImportError as exc:
        return f"tercel.engine.rules does not import: {exc}"
    if not hasattr(rules, "load_rules"):
        return "tercel.engine.rules.load_rules is not there yet"
    return None


def replay_ready() -> str | None:
    why = engine_ready()
    if why:
        return why
    import importlib

    for mod in ("tercel.capture.scap_reader", "tercel.state.inspector", "tercel.fields.extract"):
        try:
            importlib.import_module(mod)
        except ImportError as exc:
            return f"{mod} is not there yet ({exc})"
    return None
