"""Replay of the newest shared capture with the official stable rules, compared with what real
Falco 0.44 printed for it (../shared/data/expected/*.jsonl, json_output + time_format_iso_8601).

Rule names, counts, order and times must be identical, and every output field identical except the
documented differences below.

Permanent differences (tercel is right, by design):
  * container.id / container.name of host processes: on the recording machine every process sits in
    a sandbox memory cgroup (/process_api/<hex>, see reference/containers.md); Falco's container
    plugin took it for a container (container.id=6ed7135c4bfe / 7fddfcafee41, container.name=null),
    tercel reports the host (container.id=host, container.name=host, and empty image repository and
    tag as Falco prints for host processes).

No other difference is tolerated: every other output field and every text segment must be Falco's.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from app_helpers import shared_path

HOST_QUIRK = {"container.id", "container.name", "container.image.repository", "container.image.tag"}
PENDING: set[str] = set()


@pytest.fixture(scope="module")
def replayed():
    from app_helpers import run_tercel

    cap = shared_path("data", "captures", "falco044_evtgen_mix.scap")
    rules = shared_path("rules", "falcosecurity", "falco_rules.yaml")
    expected_file = shared_path("data", "expected", "falco044_evtgen_mix.falco-0.44.stable-5.1.0.jsonl")
    r = run_tercel("-r", str(rules), "-e", str(cap), "-o", "json_output=true", "-o", "time_format_iso_8601=true",
                   env={"TERCEL_HOSTNAME": "vm"}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    ours = [json.loads(line) for line in lines if line.startswith("{")]
    summary = "\n".join(line for line in lines if not line.startswith("{")) + "\n"
    expected = [json.loads(line) for line in expected_file.read_text().splitlines() if line.strip()]
    return ours, expected, summary


def test_same_rules_counts_order_and_times(replayed):
    ours, expected, _ = replayed
    assert Counter(a["rule"] for a in ours) == Counter(a["rule"] for a in expected)
    assert [(a["time"], a["rule"]) for a in ours] == [(a["time"], a["rule"]) for a in expected]
    for a, e in zip(ours, expected, strict=True):
        assert (a["priority"], a["source"], sorted(a["tags"]), a["hostname"]) == (
            e["priority"], e["source"], sorted(e["tags"]), e["hostname"])


def test_output_fields_match_falco(replayed):
    ours, expected, _ = replayed
    unexplained = []
    tolerated = Counter()
    for i, (a, e) in enumerate(zip(ours, expected, strict=True)):
        assert set(a["output_fields"]) == set(e["output_fields"]), (i, e["rule"])
        for k, want in e["output_fields"].items():
            got = a["output_fields"][k]
            if got == want:
                continue
            if k in HOST_QUIRK and a["output_fields"]["container.id"] == "host":
                tolerated[k] += 1
            elif k in PENDING:
                tolerated[k] += 1
            else:
                unexplained.append((i, e["rule"], k, want, got))
    assert unexplained == []


def _segments(text: str) -> list[str]:
    return re.split(r" (?=[A-Za-z_][\w.\[\]]*=)", text)


def _shown(v: object) -> str:
    return "<NA>" if v is None else str(v)


def test_output_text_matches_falco_but_for_known_fields(replayed):
    """Same text, segment by segment (`label=value`); a segment may differ only where it shows a
    tolerated field whose value differs, with exactly Falco's and tercel's values."""
    ours, expected, _ = replayed
    for i, (a, e) in enumerate(zip(ours, expected, strict=True)):
        etext = e["output"]
        for k in PENDING:  # values holding "k=v" pairs themselves (evt.args): swap them whole
            want, got = e["output_fields"].get(k), a["output_fields"].get(k)
            if isinstance(want, str) and "=" in want and want != got:
                etext = etext.replace(want, _shown(got).rstrip(), 1)
                a = {**a, "output": a["output"].replace(_shown(got), _shown(got).rstrip(), 1)}
        sa, se = _segments(a["output"]), _segments(etext)
        assert len(sa) == len(se), (i, a["output"], e["output"])
        allowed = {(_shown(e["output_fields"][k]), _shown(a["output_fields"][k]))
                   for k in HOST_QUIRK | PENDING if k in e["output_fields"]}
        for x, y in zip(sa, se, strict=True):
            if x == y:
                continue
            label_x, _, val_x = x.partition("=")
            label_y, _, val_y = y.partition("=")
            assert label_x == label_y, (i, x, y)
            assert (val_y, val_x) in allowed, (i, e["rule"], x, y)


def test_summary(replayed):
    ours, _, summary = replayed
    counts = Counter(a["rule"] for a in ours)
    assert summary.startswith(f"Events detected: {len(ours)}\nRule counts by severity:\n")
    by_rule = summary.split("Triggered rules by rule name:\n")[1]
    assert dict(line.strip().rsplit(": ", 1) for line in by_rule.splitlines()) == {
        k: str(v) for k, v in counts.items()}
    # severities in Falco's order (most severe first), with its short names
    sev = summary.split("Rule counts by severity:\n")[1].split("Triggered")[0].split()
    assert sev == ["CRITICAL:", "2", "WARNING:", "30", "NOTICE:", "2"]
