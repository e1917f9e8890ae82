"""The stable rules over the Falco 0.44 reference capture: the same alerts as real Falco, and
the shared-prefix dispatch gives exactly what evaluating every rule alone gives."""

from __future__ import annotations

import collections
import json

import pytest
from rules_support import SHARED, STABLE

from tercel.engine.rules import RuleLoader, Ruleset

CAPTURE = SHARED / "data" / "captures" / "falco044_evtgen_mix.scap"
EXPECTED = SHARED / "data" / "expected" / "falco044_evtgen_mix.falco-0.44.stable-5.1.0.jsonl"


@pytest.mark.slow
def test_replay_matches_falco_and_plain_dispatch():
    if not (CAPTURE.is_file() and EXPECTED.is_file() and STABLE.is_file()):
        pytest.skip("reference capture / expected alerts / rules not found under ../shared")
    try:
        from tercel.capture.scap_reader import ScapReader
        from tercel.state.inspector import Inspector
    except ImportError as e:
        pytest.skip(f"capture reader or state layer missing: {e}")
    loader = RuleLoader()
    assert loader.load_file(str(STABLE)).successful
    assert loader.compiled is not None
    shared = Ruleset(loader.compiled.rules, share_prefixes=True, hostname="h")
    plain = Ruleset(loader.compiled.rules, share_prefixes=False, hostname="h")
    reader = ScapReader(str(CAPTURE))
    insp = Inspector(reader.initial)
    got_shared, got_plain = [], []
    for buf, off, cpu, flags in reader:
        evt = insp.process(buf, off, cpu, flags)
        got_shared += [a.rule for a in shared.process(evt)]
        evt.cache = None
        got_plain += [a.rule for a in plain.process(evt)]
    assert got_shared == got_plain
    want = [json.loads(line)["rule"] for line in EXPECTED.read_text().splitlines() if line.strip()]
    assert collections.Counter(got_shared) == collections.Counter(want)
