"""``-L`` / ``-l RULE``: rule descriptions as Falco prints them (text table or JSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tercel.engine.rules import condapi

if TYPE_CHECKING:
    from tercel.engine.rules.compiler import CompiledRule
    from tercel.engine.rules.ruleset import Ruleset


def _exceptions(rule: CompiledRule) -> list[dict[str, Any]]:
    def entry(e: Any) -> Any:
        return [entry(x) for x in e.items] if e.is_list else e.item

    return [{"name": ex.name, "fields": entry(ex.fields), "comps": entry(ex.comps),
             "values": [entry(v) for v in ex.values]} for ex in rule.exceptions]


def _rule(rs: Ruleset, r: CompiledRule) -> dict[str, Any]:
    try:
        compiled = condapi.to_text(r.node)
    except Exception:  # describing must never fail on a printer problem
        compiled = r.condition
    return {
        "info": {
            "name": r.name, "condition": r.condition, "output": r.output, "description": r.description,
            "priority": r.priority.label, "source": r.source, "tags": list(r.tags),
            "exceptions": _exceptions(r), "enabled": rs.is_enabled(r.name),
        },
        "details": {
            "condition_compiled": compiled,
            "output_compiled": r.output,
            "events": sorted(r.evttypes) if r.evttypes is not None else [],
            "exception_fields": sorted(r.exception_fields),
            "macros": list(r.macros),
            "lists": list(r.lists),
        },
    }


def describe(rs: Ruleset, rule: str | None = None) -> dict[str, Any]:
    if rule is not None:
        found = rs.get(rule)
        if found is None:
            raise KeyError(f"Rule '{rule}' not found")
        return {"rules": [_rule(rs, found)]}
    out: dict[str, Any] = {}
    if rs.required_engine_version:
        out["required_engine_version"] = rs.required_engine_version
    out["required_plugin_versions"] = [
        [{"name": n, "version": v} for n, v in alts] for alts in rs.required_plugin_versions]
    comp = rs.compiled
    out["lists"] = [{"info": {"name": lst.name, "items": list(lst.items)}, "details": {"used": lst.used}}
                    for lst in (comp.lists.values() if comp else ())]
    out["macros"] = [{"info": {"name": m.name, "condition": m.condition},
                      "details": {"used": m.used, "macros": list(m.refs)}}
                     for m in (comp.macros.values() if comp else ())]
    out["rules"] = [_rule(rs, r) for r in rs.rules]
    return out


def wrap(text: str, indent: int, width: int) -> str:
    """Falco's wrap_text: words on lines of at most ``width`` columns, continuation lines indented."""
    words = text.split()
    lines: list[str] = []
    cur = ""
    room = width - indent
    for w in words:
        if cur and len(cur) + 1 + len(w) > room:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    return ("\n" + " " * indent).join(lines)


def as_text(desc: dict[str, Any]) -> str:
    out = [f"{'Rule':<50} Description", f"{'----':<50} -----------"]
    for r in desc["rules"]:
        out.append(f"{r['info']['name']:<50} {wrap(r['info']['description'], 51, 110)}\n")
    return "\n".join(out) + "\n"
