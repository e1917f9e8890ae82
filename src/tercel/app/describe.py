"""``-L`` (all rules) and ``-l RULE`` (one rule): Falco's two-column text, or its JSON with json_output.
The shapes come from the engine (``Ruleset.describe``); this module prints them."""

from __future__ import annotations

import json
import sys
from typing import Any

from tercel.app.config import Config
from tercel.app.errors import AppError


def describe_json(ruleset: Any, rule_name: str | None) -> dict[str, Any]:
    try:
        out: dict[str, Any] = ruleset.describe(rule_name)
    except KeyError:
        raise AppError(f"Rule '{rule_name}' not found") from None
    return out


def format_text(described: dict[str, Any]) -> str:
    from tercel.engine.rules.describe import as_text

    return str(as_text(described))


def describe(session: Any, rule_name: str | None, cfg: Config) -> int:
    described = describe_json(session.ruleset, rule_name)
    if cfg.json_output:
        sys.stdout.write(json.dumps(described, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        sys.stdout.write(format_text(described))
    return 0
