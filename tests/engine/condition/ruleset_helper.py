"""A minimal reading of official rule files for tests: lists flattened, macros expanded in
order, rule conditions expanded (the real loader is tercel.engine.rules)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tercel.engine.condition import Node, expand, parse


def load(path: Path) -> tuple[dict[str, Node], dict[str, list[str]], dict[str, Node], dict[str, dict]]:
    items = yaml.safe_load(path.read_text()) or []
    lists: dict[str, list[str]] = {}
    macros: dict[str, Node] = {}
    rules: dict[str, Node] = {}
    rule_items: dict[str, dict] = {}
    for item in items:
        if "list" in item:
            flat: list[str] = []
            for v in item.get("items") or []:
                v = str(v)
                flat.extend(lists[v] if v in lists else [v])
            lists[item["list"]] = flat
    for item in items:
        if "macro" in item:
            macros[item["macro"]] = expand(parse(item["condition"]), macros, lists)
    for item in items:
        if "rule" in item and "condition" in item:
            rules[item["rule"]] = expand(parse(item["condition"]), macros, lists)
            rule_items[item["rule"]] = item
    return macros, lists, rules, rule_items
