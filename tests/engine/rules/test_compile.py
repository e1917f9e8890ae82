"""Compilation semantics: warnings, skips, macro visibility, lists, exceptions, outputs."""

from __future__ import annotations

import json
import textwrap

from tercel.engine.priority import Priority
from tercel.engine.rules import RuleLoader, format_validation, load_rules, validate_files
from tercel.engine.rules.results import LoadResult


def load(*texts: str) -> tuple[RuleLoader, list[LoadResult]]:
    loader = RuleLoader()
    return loader, [loader.load_content(textwrap.dedent(t), f"f{i}.yaml") for i, t in enumerate(texts)]


def codes(res: LoadResult) -> list[str]:
    return [w.code.name for w in res.warnings]


R = """
- rule: {name}
  desc: d
  condition: {cond}
  output: "%proc.name did it"
  priority: WARNING
"""


def rule(name: str, cond: str, extra: str = "") -> str:
    return R.format(name=name, cond=cond) + extra


def test_no_evttype_warning_and_opt_out():
    _, (res,) = load(rule("a", "proc.name = bash") + rule("b", "proc.name = sh", "  warn_evttypes: false\n"))
    assert res.successful
    assert codes(res) == ["LOAD_NO_EVTTYPE"]
    assert res.warnings[0].message == ("Rule matches too many evt.type values. This has a significant performance "
                                       "penalty.")
    assert res.warnings[0].item is not None and res.warnings[0].item.item_name == "a"


def test_skip_if_unknown_filter():
    loader, (res,) = load(rule("a", "evt.type = open and proc.nope = x", "  skip-if-unknown-filter: true\n")
                          + rule("b", "evt.type = open"))
    assert res.successful
    assert codes(res) == ["LOAD_UNKNOWN_FILTER"]
    assert "proc.nope" in res.warnings[0].message
    assert [r.name for r in loader.ruleset().rules] == ["b"]


def test_unused_macros_and_lists():
    _, (res,) = load("""
        - list: used_list
          items: [a]
        - list: nested_only
          items: [b]
        - list: outer
          items: [nested_only, c]
        - list: lonely
          items: [z]
        - macro: inner
          condition: proc.name in (outer)
        - macro: only_in_unused
          condition: evt.type = open
        - macro: unused
          condition: only_in_unused and inner
        - rule: r
          desc: d
          condition: evt.type = open and proc.name in (used_list)
          output: o
          priority: INFO
        """)
    assert res.successful
    assert [(w.code.name, w.item.item_name if w.item else "") for w in res.warnings] == [
        ("LOAD_UNUSED_MACRO", "unused"), ("LOAD_UNUSED_LIST", "lonely")]
    assert res.warnings[0].message == "Macro not referred to by any other rule/macro"
    assert res.warnings[1].message == "List not referred to by any other rule/macro"


def test_lists_of_lists_and_quoted_items():
    loader, (res,) = load("""
        - list: shells
          items: [bash, sh]
        - list: all_shells
          items: [shells, zsh, '"my shell"']
        - rule: r
          desc: d
          condition: evt.type = execve and proc.name in (all_shells)
          output: o
          priority: INFO
        """)
    assert res.successful, res.as_verbose_string()
    from tercel.engine.condition import to_text

    text = to_text(loader.ruleset().rules[0].node)
    assert "bash" in text and "zsh" in text and "my shell" in text and "all_shells" not in text


def test_macro_visibility_follows_redefinition():
    _, (res,) = load("""
        - macro: a
          condition: evt.type = open
        - macro: b
          condition: proc.name = x
        - macro: a
          condition: evt.type = open and b
        - rule: r
          desc: d
          condition: a
          output: o
          priority: INFO
        """)
    assert res.successful, res.as_verbose_string()


def test_exceptions_compile_into_the_condition():
    loader, (res,) = load(rule("r", "evt.type = open", """  exceptions:
    - name: procs
      fields: [proc.name, fd.name]
      comps: [=, startswith]
      values:
        - [bash, /etc]
        - [sh, "/tmp/a b"]
    - name: single
      fields: proc.pname
      values: [sshd]
"""))
    assert res.successful, res.as_verbose_string()
    r = loader.ruleset().rules[0]
    assert r.condition == ('(evt.type = open) and not (( proc.name = bash and  fd.name startswith /etc) or '
                           '( proc.name = sh and  fd.name startswith "/tmp/a b")) and not (proc.pname in (sshd))')
    assert r.exception_fields == {"proc.name", "fd.name", "proc.pname"}
    assert r.evttypes == {"open"}


def test_container_info_is_deprecated_and_removed():
    loader, (res,) = load(rule("r", "evt.type = open").replace('"%proc.name did it"', '"x %container.info"'))
    assert codes(res) == ["LOAD_DEPRECATED_ITEM"]
    assert "%container.info" not in loader.ruleset().rules[0].output


def test_error_in_appended_condition_points_into_the_second_file():
    _, (r1, r2) = load(rule("r", "evt.type = open"), """
        - rule: r
          condition: and proc.nope = 1
          override:
            condition: append
        """)
    assert r1.successful and not r2.successful
    (err,) = r2.errors
    assert err.code.name == "LOAD_ERR_COMPILE_CONDITION"
    assert err.where.name == "f1.yaml" and (err.where.line, err.where.column) == (2, 17)  # proc.nope
    assert err.item is not None and err.item.item_name == "r"


def test_condition_error_json_shape():
    _, (res,) = load(rule("r", "evt.type = open and proc.name ="))
    doc = res.as_json()
    (err,) = doc["errors"]
    assert err["code"] == "LOAD_ERR_COMPILE_CONDITION"
    assert err["codedesc"] == "Error compiling condition"
    locs = err["context"]["locations"]
    assert [loc["item_type"] for loc in locs] == ["rules content", "rule", "rule condition", "condition expression"]
    assert locs[1]["item_name"] == "r"
    assert locs[3]["position"]["name"] == '"evt.type = open a..."'
    assert locs[3]["position"]["line"] == 3
    assert err["context"]["snippet"].startswith("  condition: evt.type = open and proc.name =\n")
    json.dumps(doc)


def test_warnings_are_per_file_like_falco():
    _, (r1, r2) = load("- macro: m\n  condition: evt.type = open\n", rule("r", "evt.type = close"))
    assert codes(r1) == ["LOAD_UNUSED_MACRO"] and codes(r2) == ["LOAD_UNUSED_MACRO"]
    assert r2.warnings[0].where.name == "f0.yaml"


def test_load_rules_priority_and_selectors(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(rule("crit", "evt.type = open").replace("WARNING", "CRITICAL")
                    + rule("dbg", "evt.type = open").replace("WARNING", "DEBUG")
                    + rule("net", "evt.type = connect", "  tags: [network]\n"))
    ruleset, results = load_rules([path], min_priority="notice", selectors=[{"disable": {"tag": "network"}}])
    assert all(r.successful for r in results)
    assert [r.name for r in ruleset.rules] == ["crit", "net"]
    assert [r.name for r in ruleset.enabled_rules()] == ["crit"]
    assert ruleset.event_types() == {"open"}
    assert ruleset.rules[0].priority is Priority.CRITICAL
    desc = ruleset.describe()
    assert [r["info"]["name"] for r in desc["rules"]] == ["crit", "net"]


def test_validate_output_text_and_json(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(rule("a", "proc.name = bash"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(rule("b", "evt.type = open and"))
    results = validate_files([good, bad])
    out, err, ok = format_validation(results)
    assert not ok
    assert out.startswith(f"{good}: Ok, with warnings\n{bad}: Invalid\n1 Errors:\n")
    assert "LOAD_NO_EVTTYPE" in err
    out, _, _ = format_validation(results, json_output=True)
    doc = json.loads(out)
    assert [r["successful"] for r in doc["falco_load_results"]] == [True, False]
    assert doc["falco_load_results"][0]["warnings"][0]["code"] == "LOAD_NO_EVTTYPE"


def test_load_rules_stops_at_the_first_invalid_file(tmp_path):
    a, b, c = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    a.write_text(rule("a", "evt.type = open"))
    b.write_text("- rule: broken\n")
    c.write_text(rule("c", "evt.type = close"))
    ruleset, results = load_rules([a, b, c])
    assert [r.successful for r in results] == [True, False]
    assert ruleset.rules == []
    assert [r.successful for r in validate_files([a, b, c])] == [True, False, True]


def test_exception_values_may_name_lists():
    loader, (res,) = load("""
        - list: trusted
          items: [sshd, "my daemon"]
        - rule: r
          desc: d
          condition: evt.type = open
          output: o
          priority: INFO
          exceptions:
            - name: by_list
              fields: [proc.name, fd.name]
              comps: [in, =]
              values:
                - [trusted, /etc/x]
        """)
    assert res.successful, res.as_verbose_string()
    from tercel.engine.condition import to_text

    text = to_text(loader.ruleset().rules[0].node)
    assert "sshd" in text and "my daemon" in text and "trusted" not in text
    assert not res.warnings  # the list counts as used


def test_rules_of_unknown_sources_are_skipped():
    loader, (res,) = load(rule("a", "evt.type = open") + rule("k", "ka.verb = create", "  source: k8s_audit\n"))
    assert res.successful and codes(res) == ["LOAD_UNKNOWN_SOURCE"]
    assert [r.name for r in loader.ruleset().rules] == ["a"]


def test_deprecated_fields_warn_with_falco_explanation():
    _, (res,) = load(rule("r", "evt.type = open and evt.dir = <").replace('"%proc.name did it"', '"%evt.latency"'))
    assert res.successful
    msgs = {w.message for w in res.warnings if w.code.name == "LOAD_DEPRECATED_ITEM"}
    assert "usage of deprecated field 'evt.latency' has been detected in the rule output" in msgs
    assert any("'evt.dir = <' always evaluates to true" in m for m in msgs)
