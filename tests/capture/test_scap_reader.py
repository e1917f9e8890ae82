"""The .scap reader on the shared captures and on damaged or synthetic files."""

from __future__ import annotations

import gzip
import struct

import pytest
from capture_support import ALL_CAPTURES, capture_path

from tercel.capture import records as R
from tercel.capture.scap_reader import ScapError, ScapReader, read_all
from tercel.capture.scap_writer import ScapWriter, block, encode_event


def _events(src):
    return list(ScapReader(src))


@pytest.mark.parametrize("name,nevents,nprocs,ver", [
    ("cat_write.scap", 345, 73, (1, 0)),
    ("connect_localhost.scap", 374, 184, (1, 0)),
    ("empty.scap", 143, 218, (1, 2)),
    ("falco044_evtgen_mix.scap", 376048, 51, (1, 2)),
])
def test_shared_captures_counts(name, nevents, nprocs, ver):
    r = ScapReader(capture_path(name))
    assert r.gzipped and r.version == ver
    assert len(r.initial.procs) == nprocs
    assert sum(1 for _ in r) == nevents == r.events_read
    assert r.progress() == pytest.approx(1.0)


def test_cat_write_metadata_v1_blocks():
    st = ScapReader(capture_path("cat_write.scap")).initial
    assert st.machine is not None and st.machine.hostname == "ubuntu" and st.machine.num_cpus == 2
    assert {i.name for i in st.interfaces} >= {"lo"}
    lo = next(i for i in st.interfaces if i.name == "lo" and not i.is_ipv6)
    assert lo.addr == bytes([127, 0, 0, 1])
    assert any(u.name == "root" and u.uid == 0 and u.homedir == "/root" for u in st.users)
    assert any(g.name == "root" and g.gid == 0 for g in st.groups)
    bash = next(p for p in st.procs if p.tid == 11310)
    assert bash.comm == "bash" and bash.pid == 11310
    fds = [f for f in st.fds if f.tid == 11310]
    assert fds and all(isinstance(f.fd, int) for f in fds)


def test_empty_scap_pl_v9_trailer_and_fdl_v2():
    st = ScapReader(capture_path("empty.scap")).initial
    # empty.scap carries a 4-byte trailer: loginuid only (-1 for most threads), no exe_writable
    assert {p.loginuid for p in st.procs} == {0xFFFFFFFF, 501}
    assert not any(p.exe_writable for p in st.procs)
    systemd = st.procs[0]
    assert (systemd.comm, systemd.exepath, systemd.sid, systemd.vpgid) == ("systemd", "/lib/systemd/systemd", 1, 1)
    assert ("name", "systemd=/init.scope") in systemd.cgroups and "PATH=/sbin:/usr/sbin:/bin:/usr/bin" in systemd.env
    secondary = [p for p in st.procs if p.tid != p.pid]
    assert secondary and all(p.flags == 0x2001 for p in secondary)
    types = {f.type for f in st.fds}
    assert R.FD_FILE in types or R.FD_FILE_V2 in types


def test_falco044_newest_fd_types_are_accepted():
    st = ScapReader(capture_path("falco044_evtgen_mix.scap")).initial
    assert st.machine is not None and st.machine.hostname == "vm"
    # FDL_V2 entries of types > 16 (sysdig 0.29 rejects the file) are kept
    assert any(f.type >= R.FD_BPF for f in st.fds)
    assert any(p.cgroups for p in st.procs)


def test_v1_event_header_rebuilt_as_v2():
    # section 5.1: first event of cat_write is a procinfo with cpu_usr=19, cpu_sys=192
    buf, off, cpu, flags = next(iter(ScapReader(capture_path("cat_write.scap"))))
    ts, tid, ln, etype, nparams = struct.unpack_from("<QqIHI", buf, off)
    assert (ts, tid, etype, nparams, ln, cpu, flags) == (1470327475999999999, 1, 234, 2, 46, 0, 0)
    assert struct.unpack_from("<HHQQ", buf, off + 26) == (8, 8, 19, 192)


def test_plain_uncompressed_and_bytes_input(tmp_path):
    data = gzip.decompress(capture_path("connect_localhost.scap").read_bytes())
    plain = tmp_path / "plain.scap"
    plain.write_bytes(data)
    r = ScapReader(plain)
    assert not r.gzipped
    a = [bytes(b[o:o + 26]) for b, o, _, _ in r]
    b = [bytes(b[o:o + 26]) for b, o, _, _ in ScapReader(data)]
    assert a == b and len(a) == 374


def test_two_sections_read_as_one_stream(tmp_path):
    one = gzip.decompress(capture_path("connect_localhost.scap").read_bytes())
    st, evs = read_all(one + one)
    assert len(evs) == 2 * 374
    assert len(st.procs) == 2 * 184  # a second PL adds entries


def _tiny_capture(n: int = 3) -> bytes:
    import io
    out = io.BytesIO()
    st = R.InitialState(machine=R.MachineInfo(num_cpus=1, hostname="h"),
                        procs=[R.ProcRecord(10, 10, 1, comm="x")])
    w = ScapWriter(out, initial=st)
    for i in range(n):
        w.write_event(encode_event(1000 + i, 10, 5, [struct.pack("<q", 0)]), 0, 0, 0)
    w.flush()
    return out.getvalue()


def test_truncated_file_gives_events_then_offset_error():
    data = _tiny_capture(3)
    cut = data[:-10]  # inside the last event block
    got = []
    with pytest.raises(ScapError) as ei:
        for ev in ScapReader(cut):
            got.append(ev)
    assert len(got) == 2
    assert ei.value.offset is not None and ei.value.offset < len(cut)
    assert "truncated" in str(ei.value)


def test_truncated_gzip_stream():
    gz = gzip.compress(_tiny_capture(200))
    got = 0
    with pytest.raises(ScapError):
        for _ in ScapReader(gz[: len(gz) - 20]):
            got += 1
    assert got < 200


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: b"\x00" * 4 + d[4:], "invalid block type"),
    (lambda d: d[:8] + b"\x00\x00\x00\x00" + d[12:], "invalid magic number"),
    (lambda d: d[:28] + struct.pack("<II", 0x201, 7) + d[36:], "invalid block total length"),
    (lambda d: b"", "empty file"),
])
def test_bad_headers(mutate, needle):
    with pytest.raises(ScapError, match=needle):
        _events(mutate(_tiny_capture(1)))


def test_trailer_mismatch_detected():
    data = bytearray(_tiny_capture(2))
    data[-4:] = struct.pack("<I", 9999)
    with pytest.raises(ScapError, match="trailer"):
        _events(bytes(data))


def test_no_events_is_an_error():
    data = _tiny_capture(0)
    with pytest.raises(ScapError, match="no events"):
        _events(data)


def test_unknown_metadata_block_skipped_but_not_after_events():
    d = _tiny_capture(1)
    shb_len = 28
    unknown = block(0x7777, b"abcd")
    with_unknown = d[:shb_len] + unknown + d[shb_len:]
    assert len(_events(with_unknown)) == 1
    with pytest.raises(ScapError, match="after the first event"):
        _events(d + unknown)


def test_evf_flags_and_large_blocks():
    import io
    out = io.BytesIO()
    w = ScapWriter(out)
    big = b"{" + b"x" * 70000 + b"}\0"
    w.write_event(encode_event(1, 0, 324, [big]), 0, 3, 0)  # CONTAINER_JSON_2_E: u32 lengths, LARGE block
    w.write_event(encode_event(2, 5, 3, [struct.pack("<q", 3)]), 0, 1, 1)  # EVF_V2, STATE_ONLY
    w.flush()
    evs = _events(out.getvalue())
    assert [(c, f) for _, _, c, f in evs] == [(3, 0), (1, 1)]
    b, o, _, _ = evs[0]
    assert struct.unpack_from("<QqIHII", b, o)[3:] == (324, 1, len(big))


def test_missing_file_is_scap_error(tmp_path):
    with pytest.raises(ScapError, match="cannot open"):
        ScapReader(tmp_path / "nope.scap")


@pytest.mark.parametrize("name", ALL_CAPTURES)
def test_every_event_fits_its_declared_length(name):
    for buf, off, _cpu, _f in ScapReader(capture_path(name)):
        ln, etype, n = struct.unpack_from("<IHI", buf, off + 16)
        width = 4 if etype in (322, 324, 402) else 2
        lens = struct.unpack_from(f"<{n}{'I' if width == 4 else 'H'}", buf, off + 26)
        assert 26 + width * n + sum(lens) == ln
