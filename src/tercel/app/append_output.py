"""``append_output`` (falco.yaml, Sandbox in Falco 0.44) and the deprecated ``-p``: extra text and
fields added to the alerts of the rules an entry matches, plus the time field Falco puts in every
JSON alert's ``output_fields``.

    append_output:
      - suggested_output: true               # the container plugin's fields (container_id=... k8s_ns_name=...)
      - match: {source: syscall, tags: [network], rule: "Some rule"}
        extra_output: "on=%evt.hostname"     # appended to the text, after a space
        extra_fields:                        # only in output_fields
          - proc.pid                         #   a field, under its own name
          - env: "${ENVIRONMENT}"            #   a name and a format (text, %fields)

A ``match`` selects rules by exact name, source, and tags (the rule must carry all of them); no
``match`` means every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tercel.app.config import Config, ConfigError

# What Falco's bundled container plugin suggests for syscall rules (its "suggested output" fields).
SUGGESTED = (
    ("container_id", "container.id"),
    ("container_name", "container.name"),
    ("container_image_repository", "container.image.repository"),
    ("container_image_tag", "container.image.tag"),
    ("k8s_pod_name", "k8s.pod.name"),
    ("k8s_ns_name", "k8s.ns.name"),
)
SUGGESTED_TEXT = " ".join(f"{k}=%{f}" for k, f in SUGGESTED)
K8S_TEXT = "k8s_ns=%k8s.ns.name k8s_pod=%k8s.pod.name"


@dataclass
class Entry:
    rule: str | None = None
    source: str | None = None
    tags: tuple[str, ...] = ()
    suggested: bool = False
    extra_output: str = ""
    extra_fields: list[tuple[str, str]] = field(default_factory=list)  # (name, format)

    def matches(self, rule: Any) -> bool:
        if self.rule is not None and rule.name != self.rule:
            return False
        if self.source is not None and rule.source != self.source:
            return False
        return set(self.tags) <= set(rule.tags)


def parse_entries(cfg: Config) -> list[Entry]:
    out: list[Entry] = []
    for i, raw in enumerate(cfg.get("append_output") or []):
        key = f"append_output[{i}]"
        where = cfg.where(key.replace("[", ".").replace("]", "")) or cfg.positions.get(("append_output", i))
        at = f"{where}: " if where else ""
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}key '{key}': expected a mapping")
        unknown = set(raw) - {"match", "suggested_output", "extra_output", "extra_fields"}
        if unknown:
            raise ConfigError(f"{at}key '{key}': unknown keys {', '.join(sorted(unknown))}")
        e = Entry()
        match = raw.get("match") or {}
        if not isinstance(match, dict) or set(match) - {"rule", "source", "tags"}:
            raise ConfigError(f"{at}key '{key}.match': expected a mapping of rule, source, tags")
        e.rule = None if match.get("rule") is None else str(match["rule"])
        e.source = None if match.get("source") is None else str(match["source"])
        tags = match.get("tags") or []
        e.tags = tuple(str(t) for t in (tags if isinstance(tags, list) else [tags]))
        sugg = raw.get("suggested_output", False)
        if not isinstance(sugg, bool):
            sugg = str(sugg).strip().lower() == "true"
        e.suggested = sugg
        extra = raw.get("extra_output") or ""
        if not isinstance(extra, str):
            raise ConfigError(f"{at}key '{key}.extra_output': expected a string")
        e.extra_output = extra
        for j, f in enumerate(raw.get("extra_fields") or []):
            if isinstance(f, str):
                e.extra_fields.append((f, "%" + f))
            elif isinstance(f, dict) and len(f) == 1:
                (name, fmt), = f.items()
                e.extra_fields.append((str(name), str(fmt)))
            else:
                raise ConfigError(f"{at}key '{key}.extra_fields[{j}]': a field name or one 'name: format'")
        out.append(e)
    return out


class _Formatter:
    """The rule's compiled output plus the appended parts; renders like OutputFormat."""

    __slots__ = ("base", "extras", "time_key")

    def __init__(self, base: Any, extras: list[tuple[str, Any, bool]], time_key: str) -> None:
        self.base = base
        self.extras = extras  # (name, OutputFormat, single field?): values go to output_fields only
        self.time_key = time_key

    def render(self, evt: Any) -> tuple[str, dict[str, Any]]:
        text, fields = self.base.render(evt)
        for name, fmt, single in self.extras:
            value, sub = fmt.render(evt)
            fields[name] = next(iter(sub.values())) if single and len(sub) == 1 else value
        fields.setdefault(self.time_key, evt.ts)
        return text, fields

    def __getattr__(self, name: str) -> Any:  # anything else (require_all, ...) from the base format
        return getattr(self.base, name)


def apply(ruleset: Any, cfg: Config, print_format: str | None = None) -> None:
    """Recompile the outputs of the rules that append_output (or -p) extends."""
    from tercel.engine.output_format import OutputFormatError, compile_output

    entries = parse_entries(cfg)
    if print_format:
        if print_format in ("c", "container"):
            entries.append(Entry(source="syscall", suggested=True))
        elif print_format in ("k", "kubernetes"):
            entries.append(Entry(source="syscall", suggested=True, extra_output=K8S_TEXT))
        else:
            entries.append(Entry(extra_output=print_format))
    time_key = "evt.time.iso8601" if cfg.time_format_iso_8601 else "evt.time"
    field_formats: dict[str, tuple[Any, bool]] = {}
    for rule in ruleset.rules:
        parts: list[str] = []
        extras: list[tuple[str, Any, bool]] = []
        for e in entries:
            if not e.matches(rule):
                continue
            if e.suggested and rule.source == "syscall" and SUGGESTED_TEXT not in parts:
                parts.append(SUGGESTED_TEXT)
            if e.extra_output:
                parts.append(e.extra_output)
            for name, fmt in e.extra_fields:
                if fmt not in field_formats:
                    try:
                        f = compile_output(fmt)
                    except OutputFormatError as exc:
                        raise ConfigError(f"append_output: extra field '{name}': {exc}") from None
                    single = fmt.startswith("%") and " " not in fmt and fmt.count("%") == 1
                    field_formats[fmt] = (f, single)
                extras.append((name, *field_formats[fmt]))
        base = rule.formatter
        if parts:
            text = rule.output.replace("%container.info", "").rstrip() + " " + " ".join(parts)
            try:
                base = compile_output(text)
            except OutputFormatError as exc:
                raise ConfigError(f"append_output for rule '{rule.name}': {exc}") from None
        rule.formatter = _Formatter(base, extras, time_key)
