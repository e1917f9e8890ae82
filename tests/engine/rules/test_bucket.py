"""Rules of one event type compiled into one function (``compile_bucket``): the same matches as
evaluating each rule's own predicate, fields extracted once per event, evt.type decided per type,
faulty rules counted and skipped; and the inspector's ``set_wanted`` changes no alert."""

from __future__ import annotations

from typing import Any

import pytest
from rules_support import INCUBATING, SANDBOX, SHARED, STABLE

from tercel.engine.rules import RuleLoader, Ruleset

CAPTURE = SHARED / "data" / "captures" / "falco044_evtgen_mix.scap"


def _compile(text: str) -> Any:
    from tercel.engine.condition import parse
    from tercel.engine.condition.expand import expand

    return expand(parse(text), {}, {})


class Thread:
    def __init__(self, comm: str) -> None:
        self._comm = comm
        self.reads = 0
        self.pid = self.tid = 1

    @property
    def comm(self) -> str:
        self.reads += 1
        return self._comm


class Evt:
    def __init__(self, name: str, comm: str) -> None:
        self.name = name
        self.thread = Thread(comm)


def test_bucket_first_all_fold_and_errors() -> None:
    from tercel.engine.condition.compiler import compile_bucket

    errors: list[int] = []
    conds = [
        _compile("evt.type = open and proc.name = nope"),
        _compile("evt.type in (open, openat) and proc.name startswith ba and proc.name != zsh"),
        _compile("evt.type = execve"),  # decided False for open events: never evaluated
        lambda e: 1 / 0,  # a rule without a tree: its predicate, errors counted
        _compile("proc.name glob 'b*h'"),
    ]
    first = compile_bucket(conds, "open", True, lambda: errors.append(1))
    every = compile_bucket(conds, "open", False, lambda: errors.append(1))
    e = Evt("open", "bash")
    assert first(e) == 1
    assert e.thread.reads == 1  # proc.name extracted once for the three checks of rules 0 and 1
    e = Evt("open", "bash")
    assert every(e) == [1, 4] and errors == [1]
    assert e.thread.reads == 1
    assert first(Evt("open", "zsh")) == -1 and errors == [1, 1]
    # evt.type = execve is decided for the bucket's type
    assert compile_bucket([_compile("evt.type = execve")], "execve", True, lambda: None)(Evt("execve", "x")) == 0
    assert compile_bucket([_compile("not evt.type = execve")], "execve", True, lambda: None)(Evt("execve", "x")) == -1


@pytest.mark.slow
def test_compiled_buckets_and_wanted_codes_change_no_alert() -> None:
    if not (CAPTURE.is_file() and STABLE.is_file()):
        pytest.skip("reference capture / official rules not found under ../shared")
    from tercel.capture.scap_reader import ScapReader
    from tercel.state.inspector import Inspector

    loader = RuleLoader()
    for f in (STABLE, INCUBATING, SANDBOX):
        assert loader.load_file(str(f)).successful
    assert loader.compiled is not None
    rules = loader.compiled.rules
    fast = Ruleset(rules, share_prefixes=True, hostname="h", rule_matching="all")
    plain = Ruleset(rules, share_prefixes=False, hostname="h", rule_matching="all")
    got: dict[str, list[tuple[str, str]]] = {"fast": [], "plain": []}
    for name, rs in (("fast", fast), ("plain", plain)):
        reader = ScapReader(str(CAPTURE))
        insp = Inspector(reader.initial, fast_paths=name == "fast")
        if name == "fast":
            insp.set_wanted(rs.wanted_codes())
        skipped = 0
        for buf, off, cpu, flags in reader:
            evt = insp.process(buf, off, cpu, flags)
            if evt is None:
                skipped += 1
                continue
            got[name] += [(a.rule, a.message) for a in rs.process(evt)]
        assert skipped == 0 or name == "fast"
        if name == "fast":
            assert skipped > 150_000  # the close exits, among others
    assert got["fast"] == got["plain"]
    assert len(got["fast"]) > 34 and fast.errors == plain.errors
    assert len({r for r, _ in got["fast"]}) >= 8
    assert not any("output rendering failed" in m for _, m in got["fast"])
