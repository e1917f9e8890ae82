"""The inspector's fast paths (``set_wanted``: raw close/skip handlers, the one-pass openat exit)
leave exactly the state the reference path leaves, and give the same Events."""

from __future__ import annotations

import struct

import pytest

from shared_data import CAPTURES
from tercel.capture.scap_reader import ScapReader
from tercel.capture.scap_writer import encode_event
from tercel.state.inspector import Inspector

WANTED = {307, 293, 3, 23}  # openat, execve, open and connect exits


def _snapshot(insp: Inspector) -> dict[int, tuple[object, ...]]:
    return {t.tid: (t.pid, t.ptid, t.comm, t.exe, t.exepath, t.cwd, t.args, t.uid, t.dead, t.last_fd,
                    sorted(t.fdtable.fds.items())) for t in insp.threads}


@pytest.mark.parametrize("name", ["falco044_evtgen_mix.scap", "cat_write.scap", "connect_localhost.scap"])
def test_fast_paths_match_the_reference_path(name: str) -> None:
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"shared capture {path} not available (../shared missing)")
    ref_reader, fast_reader = ScapReader(path), ScapReader(path)
    ref, fast = Inspector(ref_reader.initial, fast_paths=False), Inspector(fast_reader.initial)
    fast.set_wanted(WANTED)
    skipped = 0
    for (buf, off, cpu, flags), (fbuf, foff, fcpu, fflags) in zip(ref_reader, fast_reader, strict=True):
        a = ref.process(buf, off, cpu, flags)
        b = fast.process(fbuf, foff, fcpu, fflags)
        if b is None:
            skipped += 1
            assert a.type not in WANTED
            continue
        assert (b.num, b.ts, b.tid, b.type, b.name, b.fd, b.cache) == (a.num, a.ts, a.tid, a.type, a.name, a.fd, a.cache)
        assert b.values() == a.values()
        assert b.fdinfo == a.fdinfo and (b.thread is None) == (a.thread is None)
        if a.thread is not None:
            assert b.thread.tid == a.thread.tid
        assert (fast.cur_enter is None) == (ref.cur_enter is None)
        assert (fast.first_ts, fast.prev_ts, fast.last_ts) == (ref.first_ts, ref.prev_ts, ref.last_ts)
    assert _snapshot(fast) == _snapshot(ref)
    if name.startswith("falco044"):
        assert skipped > 150_000


def test_unusual_openat_and_close_events_match_the_reference_path() -> None:
    def openat(fd: bytes, name: bytes) -> list[bytes]:
        return [fd, struct.pack("<q", -100), name, struct.pack("<I", 1), struct.pack("<I", 0),
                struct.pack("<I", 0), struct.pack("<Q", 0)]

    events = [
        encode_event(1, 42, 307, openat(struct.pack("<i", 3), b"/etc/x\0")),  # 4-byte fd: general path
        encode_event(2, 42, 307, openat(struct.pack("<q", 4), b"rel\0")),  # relative name
        encode_event(3, 42, 307, openat(struct.pack("<q", -2), b"/missing\0")),  # failed open
        encode_event(4, 42, 307, openat(struct.pack("<q", 5), b"/no-nul")),
        encode_event(5, 42, 5, [struct.pack("<q", 0), struct.pack("<q", 4)]),  # close 4
        encode_event(6, 42, 5, [struct.pack("<q", 0)]),  # a lone 2022 close exit: removes nothing
        encode_event(7, 43, 5, [struct.pack("<q", 0), struct.pack("<q", 3)]),  # unknown thread
        encode_event(8, 42, 5, [struct.pack("<q", -9), struct.pack("<q", 3)]),  # failed close
        encode_event(9, 42, 307, openat(struct.pack("<q", 6), b"/etc/y\0"))[:-3],  # cut short
    ]
    ref, fast = Inspector(fast_paths=False), Inspector()
    fast.set_wanted({307})
    for raw in events:
        a = ref.process(raw, 0, 0, 0)
        b = fast.process(raw, 0, 0, 0)
        if b is not None:
            assert (b.fd, b.cache, b.fdinfo, b.values()) == (a.fd, a.cache, a.fdinfo, a.values())
        else:
            assert a.type == 5
    assert _snapshot(fast) == _snapshot(ref)
    assert sorted(fast.threads.get(42).fdtable.fds) == [3, 5, 6]


def test_fd_only_events_keep_the_latest_fd_like_the_reference_path() -> None:
    q = struct.Struct("<q").pack
    events = [
        encode_event(1, 7, 307, [q(5), q(-100), b"/f\0", struct.pack("<I", 1), struct.pack("<I", 0),
                                 struct.pack("<I", 0), struct.pack("<Q", 0)]),
        encode_event(2, 7, 7, [q(3), b"abc", q(5), struct.pack("<I", 3)]),  # newest read exit, fd third
        encode_event(3, 7, 7, [q(3), b"abc", struct.pack("<i", 9), struct.pack("<I", 3)]),  # 4-byte fd
        encode_event(4, 7, 7, [q(3), b"abc"]),  # no fd: keeps the latest one
        encode_event(5, 7, 6, [q(5), struct.pack("<I", 3)]),  # 2022 read enter, then its exit
        encode_event(6, 7, 7, [q(3), b"abc"]),
        encode_event(7, 7, 70, [q(5)])[:-4],  # fstat enter cut short
        encode_event(8, 7, 71, [q(0)]),
    ]
    ref, fast = Inspector(fast_paths=False), Inspector()
    fast.set_wanted({307})
    for raw in events:
        a = ref.process(raw, 0, 0, 0)
        b = fast.process(raw, 0, 0, 0)
        assert b is None or b.type == 307
        assert fast.threads.get(7).last_fd == ref.threads.get(7).last_fd, a
    assert _snapshot(fast) == _snapshot(ref)
