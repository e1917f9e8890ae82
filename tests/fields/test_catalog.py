"""The field catalog: every field the official rules use resolves; flags match libsinsp."""

from __future__ import annotations

import re

import pytest

from shared_data import SHARED
from tercel.fields import registry
from tercel.fields.registry import ArgKind, ArgMode

FIELD_RE = re.compile(
    r"(?<![\w/.-])((?:evt|proc|thread|user|group|fd|fs\.path|fdlist|container|k8s|syscall)\.[A-Za-z0-9_.]+)"
    r"(\[[^\]]*\])?"
)
# Matches of the regex above that are words inside list items, not field names.
NOT_FIELDS = {"k8s.io", "user.log"}


def test_every_declared_field_has_a_valid_type() -> None:
    names = set()
    for fdef in registry.fields():
        assert fdef.kind in {"str", "int", "bool", "ip", "ipnet", "bytes", "double"}
        assert fdef.desc
        names.add(fdef.name)
    assert len(names) > 250


def test_official_rule_fields_resolve() -> None:
    rules = sorted((SHARED / "rules" / "falcosecurity").glob("*.yaml"))
    if not rules:
        pytest.skip("../shared/rules/falcosecurity is missing")
    seen = set()
    for path in rules:
        for m in FIELD_RE.finditer(path.read_text()):
            name = m.group(1).rstrip(".")
            if name in NOT_FIELDS:
                continue
            seen.add(name)
            assert registry.resolve(name) is not None, f"{path.name}: {name}"
    assert {"proc.aname", "fd.sip.name", "container.mount.dest", "k8s.ns.name"} <= seen


def test_dotted_and_bracket_arguments() -> None:
    fdef, arg = registry.resolve("evt.arg.flags") or (None, None)
    assert fdef is not None and fdef.name == "evt.arg" and arg == "flags"
    assert fdef.arg is ArgMode.REQUIRED and fdef.arg_kind is ArgKind.INDEX_OR_KEY
    fdef, arg = registry.resolve("k8s.pod.label.app.kubernetes.io/name") or (None, None)
    assert fdef is not None and fdef.name == "k8s.pod.label" and arg == "app.kubernetes.io/name"
    aname = registry.get("proc.aname")
    assert aname is not None and aname.arg is ArgMode.OPTIONAL and aname.arg_kind is ArgKind.INDEX
    # fd.sip.name is a field of its own, not fd.sip with an argument
    fdef, arg = registry.resolve("fd.sip.name") or (None, None)
    assert fdef is not None and fdef.name == "fd.sip.name" and arg is None


def test_flags() -> None:
    deprecated = {f.name for f in registry.fields() if f.deprecated and f.field_class == "evt.syscall"}
    assert {"evt.dir", "evt.latency", "evt.latency.s", "evt.latency.ns", "evt.latency.human",
            "evt.wait_latency"} <= deprecated
    for name in ("fd.ip", "fd.port", "fd.net", "fd.snet", "fd.cnet", "fd.lnet", "fd.rnet", "evt.around"):
        fdef = registry.get(name)
        assert fdef is not None and fdef.filter_only, name
    rawarg = registry.get("evt.rawarg")
    assert rawarg is not None and rawarg.no_rhs and rawarg.no_transformer
    types = registry.get("fd.types")
    assert types is not None and types.is_list
    assert registry.get("fd.sip").ftype == "IPADDR"  # type: ignore[union-attr]
    assert registry.get("fd.net").ftype == "IPNET"  # type: ignore[union-attr]
