"""Fuzzing the reader (and lazy decoding) with mutated shared captures: only ScapError may escape."""

from __future__ import annotations

import gzip
import struct
from functools import cache

import pytest
from capture_support import capture_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_data import CAPTURES
from tercel.capture.scap_reader import ScapError, ScapReader
from tercel.state import render
from tercel.state.event import Event

# The strategies below are built from the captures at import time: without ../shared, skip the module.
if not (CAPTURES / "cat_write.scap").exists():
    pytest.skip(f"{CAPTURES} is missing (../shared is not beside the repository)", allow_module_level=True)

FUZZ = settings(max_examples=400, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def _plain(name: str) -> bytes:
    return gzip.decompress(capture_path(name).read_bytes())


@cache
def _block_offsets(name: str) -> tuple[int, ...]:
    data = _plain(name)
    offs, pos = [], 0
    while pos + 8 <= len(data):
        offs.append(pos)
        pos += struct.unpack_from("<I", data, pos + 4)[0]
    return tuple(offs)


def _consume(data: bytes) -> int:
    """Read everything and decode every parameter of every event; returns events seen."""
    n = 0
    try:
        for buf, off, cpu, flags in ScapReader(data):
            e = Event(buf, off, cpu, flags, n)
            _ = e.name
            for i in range(min(e.nparams, 40)):
                e.param(i)
                render.render_param(e, i)
            render.render_args(e)
            render.render_res(e)
            n += 1
    except ScapError as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(data) + (1 << 20)
        assert str(exc)
    return n


def _mutations(name: str):
    data = _plain(name)
    blocks = _block_offsets(name)
    byte_flip = st.tuples(st.just("b"), st.integers(0, len(data) - 1), st.integers(0, 255))
    field = st.tuples(st.just("u32"), st.sampled_from(blocks), st.sampled_from([4, 8, 12, 16, 26, 30, 34]),
                      st.one_of(st.integers(0, 64), st.integers(0, 2**32 - 1)))
    return st.tuples(st.lists(st.one_of(byte_flip, field), min_size=1, max_size=6),
                     st.one_of(st.none(), st.integers(0, len(data))))


def _apply(data: bytes, muts, cut) -> bytes:
    b = bytearray(data)
    for m in muts:
        if m[0] == "b":
            b[m[1]] = m[2]
        else:
            _, base, rel, val = m
            at = base + rel
            if at + 4 <= len(b):
                b[at:at + 4] = struct.pack("<I", val)
    if cut is not None:
        del b[cut:]
    return bytes(b)


@FUZZ
@given(_mutations("cat_write.scap"))
def test_fuzz_v1_capture(m):
    _consume(_apply(_plain("cat_write.scap"), *m))


@FUZZ
@given(_mutations("connect_localhost.scap"))
def test_fuzz_v1_capture_sockets(m):
    _consume(_apply(_plain("connect_localhost.scap"), *m))


@FUZZ
@given(_mutations("empty.scap"))
def test_fuzz_v2_capture(m):
    _consume(_apply(_plain("empty.scap"), *m))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(0, 4000), st.integers(0, 255))
def test_fuzz_gzip_layer(pos, val):
    gz = bytearray(capture_path("cat_write.scap").read_bytes())
    gz[min(pos, len(gz) - 1)] = val
    _consume(bytes(gz))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(min_size=0, max_size=300))
def test_fuzz_random_bytes_after_header(tail):
    head = _plain("empty.scap")[:28]
    _consume(head + tail)
