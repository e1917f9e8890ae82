"""Helpers for the app tests: run the real `tercel` command as a subprocess, find ../shared."""

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

    try:
        from tercel.fields import registry

        registry.get("evt.num")  # catalog first, then extractors: the registry's own order
    except Exception as exc:
        return f"the field extractors do not load yet ({type(exc).__name__}: {exc})"
    for mod in ("tercel.capture.scap_reader", "tercel.state.inspector", "tercel.fields.extract"):
        try:
            importlib.import_module(mod)
        except Exception as exc:  # missing, or mid-way through being written by its owner
            return f"{mod} does not import yet ({type(exc).__name__}: {exc})"
    return None


_COMPILES: list[str | None] = []


def engine_compiles() -> str | None:
    """None when a small rules file loads through the real engine, else the reason it cannot yet."""
    if _COMPILES:
        return _COMPILES[0]
    why = engine_ready()
    if why is None:
        import tercel.engine.rules as rules

        text = ("- rule: probe\n  desc: d\n  condition: evt.type = execve and proc.name = x\n"
                "  output: \"%proc.name\"\n  priority: INFO\n")
        res = rules.RuleLoader().load_content(text, "probe.yaml")
        if not res.successful:
            why = "the rule engine cannot compile yet: " + "; ".join(e.message for e in res.errors)
    _COMPILES.append(why)
    return why


def enter_events_filtered() -> str | None:
    """None when syscall enter events reach no rule (Falco 0.44's behaviour, the engine contract), else why.

    The ruleset recognises a syscall enter event from the event table's ``is_syscall`` flag or the
    libs' EC_SYSCALL category bit; until the table carries one of them, 2022-format captures (with
    enter events) would alert twice per syscall."""
    try:
        from types import SimpleNamespace

        from tercel.engine.rules.ruleset import _is_syscall_enter
        from tercel.state import eventtable
    except Exception as exc:
        return f"cannot probe the enter-event contract ({type(exc).__name__}: {exc})"
    probe = SimpleNamespace(is_exit=False, info=eventtable.info(2), name="open", type=2)  # open enter
    if not _is_syscall_enter(probe):
        return ("syscall enter events still reach rules: tercel.state.eventtable marks no event as a syscall "
                "(no is_syscall / EC_SYSCALL), which engine.rules.Ruleset needs to skip enter events")
    return None
