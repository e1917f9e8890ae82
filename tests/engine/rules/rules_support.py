"""Shared test helpers for tests/engine/rules (imported by name: tests have no packages)."""

from __future__ import annotations

from shared_data import SHARED

OFFICIAL = SHARED / "rules" / "falcosecurity"
STABLE = OFFICIAL / "falco_rules.yaml"
INCUBATING = OFFICIAL / "falco-incubating_rules.yaml"
SANDBOX = OFFICIAL / "falco-sandbox_rules.yaml"

