"""Ruleset behaviour with hand-made compiled rules: dispatch, enter events, matching modes,
selectors, priority threshold, event types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tercel.engine.priority import Priority
from tercel.engine.rules import CompiledRule, Ruleset, Selector


@dataclass
class Info:
    name: str
    category: Any = "EC_SYSCALL|EC_FILE"


@dataclass
class Evt:
    name: str
    type: int
    is_exit: bool = True
    ts: int = 1_700_000_000_000_000_000
    info: Info = field(default_factory=lambda: Info(""))
    proc: str = "bash"

    def __post_init__(self) -> None:
        if not self.info.name:
            self.info = Info(self.name, self.info.category)


class Fmt:
    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, evt: Any) -> tuple[str, dict[str, Any]]:
        return f"{self.text} proc={evt.proc}", {"proc.name": evt.proc}


def mk(name: str, evttypes: set[str] | None, pred=lambda e: True, prio=Priority.WARNING, tags=(),
       enabled=True) -> CompiledRule:
    return CompiledRule(name=name, description=f"{name} desc", condition="c", node=None, fn=pred, output=name,
                        formatter=Fmt(name), priority=prio, tags=tuple(tags), source="syscall", enabled=enabled,
                        evttypes=None if evttypes is None else frozenset(evttypes))


def test_dispatch_by_type_and_definition_order():
    rs = Ruleset([mk("a", {"open"}), mk("b", {"open", "execve"}), mk("c", {"execve"})], rule_matching="all",
                 hostname="h")
    alerts = rs.process(Evt("open", 3))
    assert [a.rule for a in alerts] == ["a", "b"]
    a = alerts[0]
    assert (a.priority, a.source, a.message, a.output_fields, a.hostname) == (
        Priority.WARNING, "syscall", "a proc=bash", {"proc.name": "bash"}, "h")
    assert [a.rule for a in rs.process(Evt("execve", 5))] == ["b", "c"]
    assert rs.process(Evt("close", 7)) == []
    assert rs.event_types() == frozenset({"open", "execve"})


def test_first_match_stops():
    rs = Ruleset([mk("a", {"open"}, lambda e: False), mk("b", {"open"}), mk("c", {"open"})])
    assert [a.rule for a in rs.process(Evt("open", 3))] == ["b"]


def test_enter_events_reach_no_rule_but_meta_events_do():
    rs = Ruleset([mk("a", {"open"}), mk("any", None)], rule_matching="all")
    assert rs.process(Evt("open", 2, is_exit=False)) == []
    assert [a.rule for a in rs.process(Evt("open", 3))] == ["a", "any"]
    meta = Evt("container", 272, is_exit=False, info=Info("container", "EC_INTERNAL|EC_METAEVENT"))
    assert [a.rule for a in rs.process(meta)] == ["any"]
    procexit = Evt("procexit", 182, is_exit=False, info=Info("procexit", 1 << 11))  # EC_TRACEPOINT
    assert [a.rule for a in rs.process(procexit)] == ["any"]
    assert rs.event_types() is None


def test_generic_syscall_events_dispatch_by_name():
    rs = Ruleset([mk("mf", {"memfd_create"})])
    generic = Evt("memfd_create", 1, info=Info("syscall"))
    assert [a.rule for a in rs.process(generic)] == ["mf"]
    assert rs.process(Evt("prctl", 1, info=Info("syscall"))) == []
    assert [a.rule for a in rs.process(generic)] == ["mf"]


def test_failing_predicate_counts_and_continues():
    def boom(_e):
        raise RuntimeError("extractor bug")

    rs = Ruleset([mk("bad", {"open"}, boom), mk("good", {"open"})])
    assert [a.rule for a in rs.process(Evt("open", 3))] == ["good"]
    assert rs.errors == 1


def test_min_priority_drops_less_severe_rules():
    rs = Ruleset([mk("crit", {"open"}, prio=Priority.CRITICAL), mk("dbg", {"open"}, prio=Priority.DEBUG)],
                 min_priority=Priority.NOTICE, rule_matching="all")
    assert [r.name for r in rs.rules] == ["crit"]
    assert [a.rule for a in rs.process(Evt("open", 3))] == ["crit"]


def test_selectors_wildcards_and_tags():
    rules = [mk("Read sensitive file", {"open"}, tags=["filesystem"]), mk("Write below etc", {"open"},
             tags=["filesystem", "write"]), mk("Net", {"connect"}, tags=["network"], enabled=False)]
    rs = Ruleset(rules, rule_matching="all")
    rs.apply_selectors([{"disable": {"rule": "*"}}, {"enable": {"tag": "network"}},
                        Selector(enable=True, rule="Read *")])
    assert [r.name for r in rs.enabled_rules()] == ["Read sensitive file", "Net"]
    assert rs.event_types() == frozenset({"open", "connect"})
    assert [a.rule for a in rs.process(Evt("open", 3))] == ["Read sensitive file"]
    with pytest.raises(ValueError):
        Selector.parse({"toggle": {"rule": "x"}})
    with pytest.raises(ValueError):
        Selector.parse({"enable": {"rule": "x", "tag": "y"}})


def test_legacy_flags():
    rs = Ruleset([mk("Read sensitive file", {"open"}, tags=["a"]), mk("Write file", {"open"}, tags=["b"]),
                  mk("Other", {"open"}, tags=["c"])])
    assert rs.disable_substring("file") == 2
    assert [r.name for r in rs.enabled_rules()] == ["Other"]
    rs = Ruleset([mk("x", {"open"}, tags=["a"]), mk("y", {"open"}, tags=["b"]), mk("z", {"open"}, tags=["c"])])
    rs.disable_tags(["b"])
    assert [r.name for r in rs.enabled_rules()] == ["x", "z"]
    rs.only_tags(["a", "b"])
    assert [r.name for r in rs.enabled_rules()] == ["x"]
    assert rs.enable_rule("y") and not rs.enable_rule("nope")
    assert [r.name for r in rs.enabled_rules()] == ["x", "y"]


def test_describe_text_and_json():
    rs = Ruleset([mk("a", {"open"}), mk("b", None, enabled=False)])
    d = rs.describe()
    assert [r["info"]["name"] for r in d["rules"]] == ["a", "b"]
    assert d["rules"][0]["info"]["priority"] == "Warning"
    assert d["rules"][1]["info"]["enabled"] is False
    assert d["rules"][0]["details"]["events"] == ["open"]
    text = rs.describe_text()
    assert text.splitlines()[:3] == [f"{'Rule':<50} Description", f"{'----':<50} -----------",
                                     f"{'a':<50} a desc"]
    assert rs.describe("b")["rules"][0]["info"]["name"] == "b"
    with pytest.raises(KeyError):
        rs.describe("nope")
