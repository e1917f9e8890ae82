"""``--config-schema`` and ``--rule-schema``: JSON schemas generated from what tercel accepts."""

from __future__ import annotations

from typing import Any

from tercel.app.config_schema import ANY, SCHEMA, Map, Scalar, Seq

_TYPES = {"bool": "boolean", "int": "integer", "float": "number", "str": "string", "priority": "string"}


def _spec(spec: Any) -> dict[str, Any]:
    if isinstance(spec, Map):
        out: dict[str, Any] = {"type": "object", "properties": {k: _spec(v) for k, v in spec.fields.items()}}
        if not spec.open:
            out["additionalProperties"] = False
        return out
    if isinstance(spec, Seq):
        return {"type": "array", "items": _spec(spec.item)} if spec.item is not None else {"type": "array"}
    if spec is ANY or not isinstance(spec, Scalar):
        return {}
    if spec.kind == "duration":
        return {"type": ["string", "integer"]}
    out = {"type": _TYPES.get(spec.kind, "string")}
    if spec.choices:
        out["enum"] = list(spec.choices)
    return out


def config_schema() -> dict[str, Any]:
    s = _spec(SCHEMA)
    s["$schema"] = "http://json-schema.org/draft-06/schema#"
    s["title"] = "tercel configuration (falco.yaml compatible)"
    return s


def rule_schema() -> dict[str, Any]:
    str_list = {"type": "array", "items": {"type": "string"}}
    override = {"type": "object", "additionalProperties": {"enum": ["append", "replace"]}}
    item = {
        "type": "object",
        "properties": {
            "required_engine_version": {"type": ["string", "integer"]},
            "required_plugin_versions": {"type": "array"},
            "rule": {"type": "string"}, "macro": {"type": "string"}, "list": {"type": "string"},
            "condition": {"type": "string"}, "output": {"type": "string"}, "desc": {"type": "string"},
            "priority": {"type": "string"}, "source": {"type": "string"}, "enabled": {"type": "boolean"},
            "tags": str_list, "items": {"type": "array"}, "exceptions": {"type": "array"},
            "append": {"type": "boolean"}, "override": override, "capture": {"type": "boolean"},
            "capture_duration": {"type": "integer"}, "warn_evttypes": {"type": "boolean"},
            "skip-if-unknown-filter": {"type": "boolean"},
        },
    }
    return {"$schema": "http://json-schema.org/draft-06/schema#", "title": "rules file", "type": "array",
            "items": item}
