"""Random rule-file-shaped YAML never makes the loader raise: every outcome is a LoadResult."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tercel.engine.rules import RuleLoader

KEYS = ["rule", "macro", "list", "condition", "output", "desc", "priority", "items", "append", "override",
        "exceptions", "name", "fields", "comps", "values", "enabled", "tags", "source", "warn_evttypes",
        "skip-if-unknown-filter", "capture", "capture_duration", "required_engine_version",
        "required_plugin_versions", "version", "alternatives"]
WORDS = ["r", "m", "l", "evt.type = open", "proc.name in (l)", "m and proc.name = x", "append", "replace",
         "INFO", "critical", "true", "no", "0.50.0", "12", "proc.name", "=", "in", "pmatch", "bash", "a b", "",
         "(", "not", "evt.type in (open, l)", "container", "0.1.0", "fd.name startswith /etc", "%proc.name"]

scalars = st.one_of(st.sampled_from(WORDS), st.integers(-3, 200), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)), max_leaves=25)
items = st.dictionaries(st.sampled_from(KEYS), values, min_size=1, max_size=7)
files = st.lists(st.one_of(items, scalars), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(files, min_size=1, max_size=3))
def test_random_rule_files_never_raise(docs):
    loader = RuleLoader()
    for i, doc in enumerate(docs):
        res = loader.load_content(yaml.safe_dump(doc, sort_keys=False), f"f{i}.yaml")
        for msg in res.errors + res.warnings:
            assert msg.message and msg.where.name  # says what and where (a file, maybe an earlier one)
        res.as_verbose_string()
        res.as_json()
    loader.ruleset().event_types()
