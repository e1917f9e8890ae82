"""Whatever the event data, a text alert is one safe line and a JSON alert is valid, bounded UTF-8."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from outputs_support import make_alert

from tercel.outputs import JsonOptions, format_json, format_text

# event strings as the state layer decodes them: any bytes through utf-8/surrogateescape
event_str = st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")) | st.text(
    max_size=300
)
values = st.none() | st.integers(-(2**63), 2**64 - 1) | st.booleans() | event_str


@settings(max_examples=300, deadline=None)
@given(
    message=event_str,
    fields=st.dictionaries(st.text(max_size=20), values, max_size=6),
    cap=st.integers(0, 3000),
)
def test_any_alert_is_safe(message, fields, cap):
    a = make_alert(message=message, fields=fields)
    line = format_text(a, iso8601=True, max_size=cap)
    raw = line.encode("utf-8")  # no lone surrogates
    assert b"\n" not in raw and b"\r" not in raw and b"\x1b" not in raw and b"\x00" not in raw
    assert cap == 0 or len(line) <= cap
    out = format_json(a, JsonOptions(max_size=cap if cap >= 600 else 0))
    d = json.loads(out.encode("utf-8"))
    assert d["rule"] == a.rule and set(d["output_fields"]) == set(fields)
    assert cap < 600 or len(out) <= cap
