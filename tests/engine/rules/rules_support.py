"""Shared test helpers for tests/engine/rules (imported by name: tests have no packages)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
OFFICIAL = SHARED / "rules" / "falcosecurity"
STABLE = OFFICIAL / "falco_rules.yaml"
INCUBATING = OFFICIAL / "falco-incubating_rules.yaml"
SANDBOX = OFFICIAL / "falco-sandbox_rules.yaml"


def condition_complete() -> bool:
    try:
        import tercel.engine.condition as c
        import tercel.engine.output_format as o
    except ImportError:
        return False
    return all(hasattr(c, n) for n in ("expand", "validate", "event_types", "compile", "list_refs")) and hasattr(
        o, "compile_output")


needs_compiler = pytest.mark.skipif(not condition_complete(),
                                    reason="the condition language / output formats are not complete yet")
