"""``-L`` (all rules) and ``-l RULE`` (one rule): Falco's two-column text, or its JSON with json_output."""

from __future__ import annotations

import json
import sys
from typing import Any

from tercel.app import engine_api as ea
from tercel.app.config import Config
from tercel.app.errors import AppError


def _rule_json(r: Any) -> dict[str, Any]:
    prio = ea.priority_of(r)
    evtypes = ea.rule_attr(r, "event_types", "evttypes", default=None)
    if callable(evtypes):
        evtypes = evtypes()
    info = {
        "name": ea.rule_attr(r, "name"),
        "condition": ea.rule_attr(r, "condition_text", "cond", "condition", default=""),
        "output": ea.rule_attr(r, "output_text", "output", default=""),
        "description": ea.rule_attr(r, "desc", "description", default=""),
        "priority": prio.label,
        "source": ea.rule_attr(r, "source", default="syscall"),
        "enabled": ea.is_enabled(r),
        "tags": sorted(ea.rule_attr(r, "tags", default=()) or ()),
    }
    for k in ("condition", "output"):
        if not isinstance(info[k], str):
            info[k] = str(ea.rule_attr(info[k], "text", default=info[k]))
    details: dict[str, Any] = {"events": sorted(evtypes) if evtypes else []}
    return {"info": info, "details": details}


def describe_json(ruleset: Any, rule_name: str | None) -> dict[str, Any]:
    rules = ea.rules_of(ruleset)
    if rule_name is not None:
        rules = [r for r in rules if ea.rule_attr(r, "name") == rule_name]
        if not rules:
            raise AppError(f"Rule not found: {rule_name}")
    return {"rules": [_rule_json(r) for r in rules]}


def _wrap(text: str, indent: int, line_len: int) -> str:
    """Falco's wrap_text: words separated by one space, a new line indented by ``indent`` whenever
    the next word would pass ``line_len - indent`` characters."""
    out: list[str] = []
    length = 0
    for word in text.split():
        if length + len(word) + 1 <= line_len - indent:
            length += len(word) + 1
        else:
            out.append("\n" + " " * indent)
            length = len(word) + 1
        out.append(word + " ")
    return "".join(out)


def _two_columns(left: str, right: str) -> str:
    return f"{left:<50} {right}\n"


def format_text(described: dict[str, Any]) -> str:
    out = [_two_columns("Rule", "Description"), _two_columns("----", "-----------")]
    for r in described["rules"]:
        out.append(_two_columns(r["info"]["name"], _wrap(r["info"]["description"], 51, 110) + "\n"))
    return "".join(out)


def describe(session: Any, rule_name: str | None, cfg: Config) -> int:
    described = describe_json(session.ruleset, rule_name)
    if cfg.json_output:
        sys.stdout.write(json.dumps(described, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        sys.stdout.write(format_text(described))
    return 0
