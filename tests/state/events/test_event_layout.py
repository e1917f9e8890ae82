"""Whole-event decoding (precompiled layouts) gives exactly what lazy, per-parameter decoding
gives, for every event of the shared captures and for events with unusual lengths."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared_data import CAPTURES, capture_path
from tercel.capture.scap_reader import ScapReader
from tercel.capture.scap_writer import encode_event
from tercel.state.event import Event


def lazy_values(buf: Any, off: int) -> list[Any]:
    e = Event(buf, off)
    e._vals = {}  # force the per-parameter path
    return [e.param(i) for i in range(e.nparams)]


def test_layouts_match_lazy_decoding_on_every_shared_capture() -> None:
    capture_path("falco044_evtgen_mix.scap")
    laid_out = 0
    for path in sorted(CAPTURES.glob("*.scap")):
        for buf, off, cpu, flags in ScapReader(path):
            e = Event(buf, off, cpu, flags)
            vals = e.values()
            assert vals == lazy_values(buf, off), (path.name, e.type, e.nparams)
            laid_out += isinstance(e._vals, list)
            assert [e.param(i) for i in range(-1, e.nparams + 1)] == [None, *vals, None]
    assert laid_out > 300_000  # openat, close... take the whole-event path


def openat_x(fd_len: int = 8, name: bytes = b"/etc/passwd\0", tail: bytes = b"") -> bytes:
    params = [struct.pack("<q", 3)[:fd_len], struct.pack("<q", -100), name, struct.pack("<I", 1),
              struct.pack("<I", 0), struct.pack("<I", 0x801), struct.pack("<Q", 42)]
    return encode_event(10, 20, 307, params) + tail


def test_usual_and_unusual_lengths_decode_alike() -> None:
    usual = Event(openat_x(), 0)
    assert usual.values() == [3, -100, "/etc/passwd", 1, 0, 0x801, 42]
    assert isinstance(usual._vals, list)
    short_fd = Event(openat_x(fd_len=4), 0)  # a 4-byte fd: not the usual layout, decoded lazily
    assert short_fd.values() == [3, -100, "/etc/passwd", 1, 0, 0x801, 42]
    assert isinstance(short_fd._vals, dict)
    empty = Event(openat_x(fd_len=0), 0)
    assert empty.param(0) is None and empty.param(2) == "/etc/passwd"
    close = Event(encode_event(1, 2, 5, [struct.pack("<q", 0), struct.pack("<q", 7)]), 0)
    assert close.values() == [0, 7] and close.param(1) == 7


def test_event_cut_short_in_its_buffer_never_raises() -> None:
    raw = openat_x()
    for cut in range(26, len(raw)):
        e = Event(raw[:cut], 0)
        vals = e.values()
        assert len(vals) <= e.nparams
        assert [e.param(i) for i in range(e.nparams)] == vals + [None] * (e.nparams - len(vals))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=80), st.integers(0, 6), st.binary(max_size=3))
def test_random_parameter_bytes_decode_alike(data: bytes, which: int, tail: bytes) -> None:
    params = [struct.pack("<q", 3), struct.pack("<q", -100), b"/x\0", struct.pack("<I", 1),
              struct.pack("<I", 0), struct.pack("<I", 1), struct.pack("<Q", 2)]
    params[which] = data
    raw = encode_event(1, 2, 307, params) + tail
    assert Event(raw, 0).values() == lazy_values(raw, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=21, max_size=21), st.integers(0, 20), st.booleans())
def test_several_variable_parameters_decode_alike(params: list[bytes], usual: int, fix: bool) -> None:
    # clone exit (newest, 21 params: strings, buffers and integers): usual lengths for the
    # integers where ``fix``, random bytes elsewhere
    from tercel.state import eventtable as et

    info = et.TABLE[223]
    if fix:
        from tercel.state.event import _FIXED_FMT

        for i, p in enumerate(info.params[:21]):
            f = _FIXED_FMT.get(p.type)
            if f and i != usual:
                params[i] = bytes(range(1, struct.calcsize(f) + 1))
    raw = encode_event(1, 2, 223, params)
    assert Event(raw, 0).values() == lazy_values(raw, 0)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([5, 223, 293, 307]), st.integers(0, 40), st.integers(26, 90), st.binary(max_size=90))
def test_hostile_counts_and_lengths_never_raise(etype: int, nparams: int, elen: int, body: bytes) -> None:
    # a header whose count and length disagree with the bytes that follow (no reader checks)
    raw = struct.pack("<QqIHI", 1, 2, elen, etype, nparams) + body
    e = Event(raw, 0)
    vals = e.values()
    assert [e.param(i) for i in range(len(vals))] == vals
    assert e.param(nparams + 1) is None
