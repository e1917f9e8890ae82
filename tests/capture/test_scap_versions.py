"""Every block version of section 1.3, built byte by byte: PL V1-V9, IL v1 types 1-4, aliases, EV/EVF v1."""

from __future__ import annotations

import struct

import pytest

from tercel.capture.scap_reader import ScapReader
from tercel.capture.scap_writer import block, encode_event, shb

PL_TYPES = {1: 0x202, 2: 0x207, 3: 0x209, 4: 0x210, 5: 0x211, 6: 0x212, 7: 0x213, 8: 0x214, 9: 0x215}


def _lstr(b: bytes) -> bytes:
    return struct.pack("<H", len(b)) + b


def _pl_entry(ver: int, tid: int) -> bytes:
    e = struct.pack("<QQQ", tid, tid, 1)
    if ver >= 6:
        e += struct.pack("<Q", 77)  # sid
    if ver >= 8:
        e += struct.pack("<Q", 78)  # vpgid
    e += _lstr(b"comm") + _lstr(b"/bin/exe")
    if ver >= 7:
        e += _lstr(b"/usr/bin/exe")
    e += _lstr(b"a1\0a2\0") + _lstr(b"/cwd") + struct.pack("<QIII", 1024, 0x2001, 1000, 1001)
    if ver >= 2:
        e += struct.pack("<IIIQQ", 10, 11, 12, 13, 14)
    if ver >= 3:
        e += _lstr(b"K=V\0")
    if ver >= 4:
        e += struct.pack("<qq", 5, 6) + _lstr(b"cpu=/a\0memory=/b\0")
    if ver >= 5:
        e += _lstr(b"/root")
    if ver == 9:
        e += struct.pack("<IB", 1000, 1)
        e = struct.pack("<I", len(e) + 4) + e
    return e


def _one_event_v1() -> bytes:
    # EV v1: cpu, v1 header (no nparams), lengths, params (close_E: fd)
    data = struct.pack("<H", 8) + struct.pack("<q", 7)
    hdr = struct.pack("<QqIH", 99, 42, 22 + len(data), 4)
    return block(0x204, struct.pack("<H", 1) + hdr + data)


@pytest.mark.parametrize("ver", range(1, 10))
def test_process_list_versions(ver):
    body = _pl_entry(ver, 42) + _pl_entry(ver, 43)
    data = shb() + block(PL_TYPES[ver], body) + _one_event_v1()
    r = ScapReader(data)
    procs = r.initial.procs
    assert [p.tid for p in procs] == [42, 43]
    p = procs[0]
    assert (p.comm, p.exe, p.args, p.cwd, p.fdlimit, p.flags, p.uid, p.gid) == \
        ("comm", "/bin/exe", ["a1", "a2"], "/cwd", 1024, 0x2001, 1000, 1001)
    assert p.exepath == ("/usr/bin/exe" if ver >= 7 else "")
    assert p.sid == (77 if ver >= 6 else 0) and p.vpgid == (78 if ver >= 8 else 0)
    assert (p.vmsize_kb, p.pfminor) == ((10, 14) if ver >= 2 else (0, 0))
    assert p.env == (["K=V"] if ver >= 3 else [])
    assert (p.vtid, p.vpid, p.cgroups) == ((5, 6, [("cpu", "/a"), ("memory", "/b")]) if ver >= 4 else (-1, -1, []))
    assert p.root == ("/root" if ver >= 5 else "")
    assert (p.loginuid, p.exe_writable) == ((1000, True) if ver == 9 else (0xFFFFFFFF, False))
    evs = list(r)
    b, o, cpu, flags = evs[0]
    assert struct.unpack_from("<QqIHI", b, o) == (99, 42, 36, 4, 1) and cpu == 1


def test_pl_v9_newest_trailer():
    # a V9 entry with the 76-byte trailer of the newest writer
    e = struct.pack("<QQQQQ", 42, 42, 1, 0, 0) + _lstr(b"c") + _lstr(b"e") + _lstr(b"p") + _lstr(b"") + \
        _lstr(b"/") + struct.pack("<QIII", 1, 0, 0, 0) + struct.pack("<IIIQQ", 0, 0, 0, 0, 0) + _lstr(b"") + \
        struct.pack("<qq", 1, 1) + _lstr(b"") + _lstr(b"/")
    e += struct.pack("<QIIB", 123456789, 34816, 1000, 1) + struct.pack("<QQQ", 1, 2, 3) + b"\x01" + \
        struct.pack("<QQQ", 555, 666, 777) + b"\x01\x00" + struct.pack("<q", 4242)
    entry = struct.pack("<I", len(e) + 4) + e
    p = ScapReader(shb() + block(0x215, entry) + _one_event_v1()).initial.procs[0]
    assert (p.pidns_init_start_ts, p.tty, p.loginuid, p.exe_writable) == (123456789, 34816, 1000, True)
    assert (p.cap_inheritable, p.cap_permitted, p.cap_effective) == (1, 2, 3)
    assert (p.exe_upper_layer, p.exe_ino, p.exe_ino_ctime, p.exe_ino_mtime) == (True, 555, 666, 777)
    assert (p.exe_from_memfd, p.exe_lower_layer, p.pgid) == (True, False, 4242)


def test_interface_list_v1_all_types():
    v4 = bytes([10, 0, 0, 1]) + bytes([255, 0, 0, 0]) + bytes([10, 255, 255, 255])
    v6 = bytes(15) + b"\x01" + bytes(16) + bytes(16)
    body = struct.pack("<HH", 1, 2) + v4 + struct.pack("<Q", 1000) + b"e0" + \
        struct.pack("<HH", 2, 2) + v6 + struct.pack("<Q", 10) + b"lo" + \
        struct.pack("<HH", 3, 2) + v4 + b"e1" + struct.pack("<HH", 4, 2) + v6 + b"e2"
    ifs = ScapReader(shb() + block(0x205, body) + _one_event_v1()).initial.interfaces
    assert [(i.name, i.is_ipv6, i.linkspeed) for i in ifs] == \
        [("e0", False, 1000), ("lo", True, 10), ("e1", False, 0), ("e2", True, 0)]
    assert ifs[1].addr == bytes(15) + b"\x01"


def test_aliases_and_evf_v1():
    mi = struct.pack("<IQQ", 4, 1 << 30, 4096) + b"host".ljust(128, b"\0") + bytes(32)
    user = struct.pack("<BII", 0, 0, 0) + _lstr(b"root") + _lstr(b"/root") + _lstr(b"/bin/sh")
    data = struct.pack("<H", 8) + struct.pack("<q", 7)
    evf = block(0x208, struct.pack("<HI", 2, 1) + struct.pack("<QqIH", 5, 9, 22 + len(data), 4) + data)
    alias_ev = struct.pack("<I", 0x8010ABCD) + _one_event_v1()[4:]
    raw = shb() + struct.pack("<I", 0x8002ABCD) + block(0x201, mi)[4:] + \
        struct.pack("<I", 0x8012ABCD) + block(0x206, user)[4:] + \
        struct.pack("<I", 0x8000ABCD) + block(0x202, _pl_entry(1, 9))[4:] + evf + alias_ev
    r = ScapReader(raw)
    assert r.initial.machine is not None and r.initial.machine.hostname == "host"
    assert r.initial.users[0].name == "root" and r.initial.procs[0].tid == 9
    evs = list(r)
    assert [(c, f) for _, _, c, f in evs] == [(2, 1), (1, 0)]


def test_v1_event_nparams_inferred_from_lengths():
    # open_X (3) has 5 params in the 2022 table; a v1 event carrying only 3 is rebuilt with nparams=3
    params = [struct.pack("<q", 3), b"/x\0", struct.pack("<I", 1)]
    lens = struct.pack("<3H", *(len(p) for p in params))
    body = lens + b"".join(params)
    ev1 = block(0x204, struct.pack("<H", 0) + struct.pack("<QqIH", 1, 2, 22 + len(body), 3) + body)
    b, o, _, _ = next(iter(ScapReader(shb() + ev1)))
    assert struct.unpack_from("<QqIHI", b, o) == (1, 2, 26 + len(body), 3, 3)
    assert bytes(b[o + 26:o + 26 + len(body)]) == body
    v2 = encode_event(1, 2, 3, params)
    assert bytes(b[o:o + len(v2)]) == v2
