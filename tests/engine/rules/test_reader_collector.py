"""Reading and collecting: Falco's item semantics, without compiling conditions."""

from __future__ import annotations

import textwrap

from tercel.engine.priority import Priority
from tercel.engine.rules.collector import Collector
from tercel.engine.rules.compiler import build_exceptions
from tercel.engine.rules.loader import RuleLoader
from tercel.engine.rules.reader import ReadConfig
from tercel.engine.rules.results import LoadResult


def read(*texts: str) -> tuple[Collector, list[LoadResult]]:
    loader = RuleLoader()
    results = []
    for i, text in enumerate(texts):
        name = f"f{i}.yaml"
        res = LoadResult(name, loader.contents)
        loader.contents[name] = textwrap.dedent(text)
        loader.collector.res = res
        loader.reader.read(ReadConfig(name, loader.contents[name], res))
        results.append(res)
    return loader.collector, results


RULE = """
- rule: {name}
  desc: a rule
  condition: {cond}
  output: out %proc.name
  priority: {prio}
"""


def rule(name: str = "r", cond: str = "evt.type = open", prio: str = "WARNING") -> str:
    return RULE.format(name=name, cond=cond, prio=prio)


def test_official_files_read_cleanly(official):
    counts = {}
    for key, path in official.items():
        col, (res,) = read(path.read_text())
        assert res.successful and not res.warnings, res.as_verbose_string()
        counts[key] = (len(col.rules), len(col.macros), len(col.lists))
        assert col.required_engine_version is not None
        assert str(col.required_engine_version[0]) == "0.57.0"
        assert col.unsatisfied_plugins({"container": "0.7.1"}) == []
    assert counts == {"stable": (25, 87, 49), "incubating": (31, 82, 54), "sandbox": (37, 183, 60)}


def test_several_documents_and_null_items():
    col, (res,) = read("- list: a\n  items: [x]\n---\n- list: b\n  items: [y]\n-\n---\n")
    assert res.successful
    assert list(col.lists) == ["a", "b"]


def test_redefinition_keeps_the_first_position_and_later_wins():
    col, _ = read(rule("one") + rule("two") + rule("one", "evt.type = close", "ERROR"))
    assert list(col.rules) == ["one", "two"]
    assert col.rules["one"].cond == "evt.type = close"
    assert col.rules["one"].priority is Priority.ERROR
    assert col.rules["one"].index == 0 and col.rules["one"].visibility == 2


def test_priorities_case_insensitive_with_info_alias():
    col, (res,) = read(rule("a", prio="info") + rule("b", prio="Emergency") + rule("c", prio="debug"))
    assert res.successful
    assert [r.priority for r in col.rules.values()] == [Priority.INFORMATIONAL, Priority.EMERGENCY, Priority.DEBUG]


def test_list_append_legacy_and_override():
    col, (r1, r2) = read("- list: l\n  items: [a, b]\n", """
        - list: l
          items: [c]
          append: true
        - list: l
          items: [d]
          override:
            items: append
        """)
    assert col.lists["l"].items == ["a", "b", "c", "d"]
    assert [w.code.name for w in r2.warnings] == ["LOAD_DEPRECATED_ITEM"]
    col, _ = read("- list: l\n  items: [a]\n- list: l\n  items: [z]\n  override:\n    items: replace\n")
    assert col.lists["l"].items == ["z"]


def test_macro_append_concatenates_with_a_space():
    col, _ = read("""
        - macro: m
          condition: evt.type = open
        - macro: m
          condition: or evt.type = close
          override:
            condition: append
        """)
    assert col.macros["m"].cond == "evt.type = open or evt.type = close"


def test_rule_override_append_and_replace():
    col, (res,) = read(rule("r") + textwrap.dedent("""
        - rule: r
          condition: and proc.name = bash
          output: extra
          desc: more
          tags: [b]
          override:
            condition: append
            output: append
            desc: append
            tags: append
        - rule: r
          priority: critical
          enabled: false
          override:
            priority: replace
            enabled: replace
        """))
    assert res.successful, res.as_verbose_string()
    r = col.rules["r"]
    assert r.cond == "evt.type = open and proc.name = bash"
    assert r.output == "out %proc.name extra"
    assert r.desc == "a rule more"
    assert r.tags == {"b"}
    assert r.priority is Priority.CRITICAL and r.enabled is False
    assert not res.warnings


def test_legacy_rule_append_adds_condition_and_warns():
    col, (res,) = read(rule("r") + "- rule: r\n  condition: and proc.name = sh\n  append: true\n")
    assert col.rules["r"].cond == "evt.type = open and proc.name = sh"
    assert [w.code.name for w in res.warnings] == ["LOAD_DEPRECATED_ITEM"]


def test_rule_with_only_enabled_toggles_and_warns():
    col, (res,) = read(rule("r") + "- rule: r\n  enabled: false\n")
    assert col.rules["r"].enabled is False
    assert res.successful
    assert [w.code.name for w in res.warnings] == ["LOAD_DEPRECATED_ITEM"]
    assert "standalone 'enabled' key usage is deprecated" in res.warnings[0].message


def test_optional_rule_keys():
    col, (res,) = read(rule("r") + textwrap.dedent("""
        - rule: s
          desc: d
          condition: evt.type = open
          output: o
          priority: NOTICE
          source: syscall
          enabled: no
          tags: [a, b]
          warn_evttypes: false
          skip-if-unknown-filter: true
          capture: true
          capture_duration: 2000
        """))
    s = col.rules["s"]
    assert res.successful and not res.warnings
    assert (s.enabled, s.tags, s.warn_evttypes, s.skip_if_unknown_filter, s.capture, s.capture_duration) == (
        False, {"a", "b"}, False, True, True, 2000)


def test_unknown_item_and_unknown_key_warn():
    _, (res,) = read("- foo: bar\n" + rule("r") .replace("priority:", "priorty_typo: x\n  priority:"))
    assert res.successful
    assert [w.code.name for w in res.warnings] == ["LOAD_UNKNOWN_ITEM", "LOAD_UNKNOWN_KEY"]
    assert "priorty_typo" in res.warnings[1].message


def test_invalid_names_warn():
    _, (res,) = read("- macro: 1bad\n  condition: evt.type = open\n- list: 'a b'\n  items: [x]\n")
    assert [w.code.name for w in res.warnings] == ["LOAD_INVALID_MACRO_NAME", "LOAD_INVALID_LIST_NAME"]


def test_unknown_source_warns_and_is_skipped():
    col, (res,) = read(rule("r").replace("priority:", "source: aws_cloudtrail\n  priority:"))
    assert res.successful
    assert [w.code.name for w in res.warnings] == ["LOAD_UNKNOWN_SOURCE"]
    assert col.rules["r"].unknown_source


def test_engine_versions():
    for text, ok in (("10", True), ("0.63.0", True), ("0.62.9", True), ("64", False), ("0.63.1", False)):
        col, (res,) = read(f"- required_engine_version: {text}\n")
        assert res.successful is ok, (text, res.as_verbose_string())


def test_plugin_alternatives_satisfied_by_builtin_container():
    col, (res,) = read("""
        - required_plugin_versions:
            - name: k8saudit
              version: 0.1.0
              alternatives:
                - name: container
                  version: 0.4.0
        """)
    assert res.successful
    assert col.unsatisfied_plugins({"container": "0.7.1"}) == []
    assert len(col.unsatisfied_plugins({})) == 1


def test_exceptions_defaults_and_append_values():
    col, (res,) = read(rule("r") .replace("priority:", """exceptions:
    - name: pair
      fields: [proc.name, fd.name]
      values:
        - [bash, /etc/passwd]
    - name: single
      fields: proc.pname
      values: [sshd, "my shell"]
  priority:""") + """
- rule: r
  exceptions:
    - name: pair
      values:
        - [sh, [/etc/a, /etc/b]]
  override:
    exceptions: append
""")
    assert res.successful, res.as_verbose_string()
    r = col.rules["r"]
    pair, single = r.exceptions
    assert [c.item for c in pair.comps.items] == ["=", "="]
    assert single.comps.item == "in"
    assert len(pair.values) == 2
    text, fields = build_exceptions(r)
    assert text == (
        "(evt.type = open) and not (( proc.name = bash and  fd.name = /etc/passwd) or "
        "( proc.name = sh and  fd.name = (/etc/a, /etc/b))) and not (proc.pname in (sshd, \"my shell\"))")
    assert fields == {"proc.name", "fd.name", "proc.pname"}


def test_exception_list_operator_values_get_parenthesised():
    col, (res,) = read(rule("r").replace("priority:", """exceptions:
    - name: e
      fields: [proc.name, fd.name]
      comps: [in, startswith]
      values:
        - [my_list, /tmp/my file]
  priority:"""))
    assert res.successful, res.as_verbose_string()
    text, _ = build_exceptions(col.rules["r"])
    # Falco's exact text, double spaces included
    assert text == '(evt.type = open) and not (( proc.name in (my_list) and  fd.name startswith "/tmp/my file"))'


def test_append_with_no_values_warns():
    _, (_, res) = read(rule("r").replace("priority:", """exceptions:
    - name: e
      fields: [proc.name]
      values: [[a]]
  priority:"""), """
- rule: r
  exceptions:
    - name: e
  override:
    exceptions: append
""")
    assert [w.code.name for w in res.warnings] == ["LOAD_APPEND_NO_VALUES"]


def test_positions_are_falco_marks():
    _, (res,) = read("- list: l\n  items: [a]\n- rule: x\n  desc: d\n")
    (err,) = res.errors
    assert err.code.name == "LOAD_ERR_YAML_VALIDATE"
    locs = err.context.locations
    assert [(loc.item_type, loc.item_name, loc.line, loc.column) for loc in locs] == [
        ("rules content", "", 0, 0), ("rule", "x", 2, 2)]
    assert err.located().startswith("f0.yaml:3:3: rule 'x': LOAD_ERR_YAML_VALIDATE:")
    text = res.as_verbose_string()
    assert text.startswith("f0.yaml: Invalid\n1 Errors:\nIn rules content: (f0.yaml:0:0)\n    rule 'x': (f0.yaml:2:2)\n")
    assert "------\n- rule: x\n  ^\n------\n" in text
    assert text.endswith("LOAD_ERR_YAML_VALIDATE (Error validating internal structure of YAML file): "
                         "Item has no mapping for key 'condition'\n")
    assert res.as_summary_string() == ("f0.yaml: Invalid\n 1 errors: [LOAD_ERR_YAML_VALIDATE (Error validating "
                                       "internal structure of YAML file)]")
