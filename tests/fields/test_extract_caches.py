"""Per-type-code caches in the extractors only hold what the event table says: an event that
carries a description of its own (a test double, a plugin) cannot poison them for real events."""

from __future__ import annotations

import struct
from typing import Any

from tercel.capture.scap_writer import encode_event
from tercel.fields import registry
from tercel.state.event import Event


class _Info:
    name = "openat"
    index_by_name = {"flags": 0}
    params = ()


class _Fake:
    """An openat exit whose own description puts "flags" first."""

    type = 307
    name = "openat"
    is_exit = True
    nparams = 1
    info = _Info()
    thread = None

    def param(self, i: int) -> Any:
        return 2 if i == 0 else None  # O_WRONLY


def _field(name: str) -> Any:
    found = registry.resolve(name)
    assert found is not None
    return registry.make_extractor(found[0], found[1])


def test_fake_event_does_not_poison_the_flags_index() -> None:
    from tercel.fields import extract_evt

    extract_evt._FLAGS_IDX.clear()  # as in a fresh process where the fake comes first
    is_read, is_write = _field("evt.is_open_read"), _field("evt.is_open_write")
    assert is_write(_Fake()) is True and is_read(_Fake()) is False
    real = Event(encode_event(1, 2, 307, [struct.pack("<q", 2), struct.pack("<q", -100), b"/etc/x\0",
                                          struct.pack("<I", 1), struct.pack("<I", 0), struct.pack("<I", 0),
                                          struct.pack("<Q", 0)]), 0)
    assert is_read(real) is True and is_write(real) is False
