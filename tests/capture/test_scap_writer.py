"""The .scap writer: files sysdig 0.29 reads back with identical fields, and tercel re-reads identically."""

from __future__ import annotations

import struct
import subprocess

import pytest
from capture_support import OLD_CAPTURES, capture_path, need_sysdig

from tercel.capture import records as R
from tercel.capture.scap_reader import ScapReader
from tercel.capture.scap_writer import ScapWriter, encode_event, write_capture

FIELDS = ("*%evt.num %evt.rawtime %evt.cpu %thread.tid %evt.dir %evt.type %evt.args %evt.res %evt.rawres "
          "%proc.pid %proc.ppid %proc.name %proc.pname %proc.exe %proc.exepath %proc.cmdline %proc.cwd %proc.env "
          "%proc.sid %proc.tty %proc.vpid %thread.vtid %user.uid %user.name %user.loginuid %group.gid %group.name "
          "%fd.num %fd.type %fd.typechar %fd.name %fd.sip %fd.cip %fd.sport %fd.cport %fd.l4proto %fd.sockfamily")


def _sysdig(path, *args: str) -> bytes:
    exe = need_sysdig()
    r = subprocess.run([exe, "-r", str(path), *args], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr[:500]
    return r.stdout


def _rewrite(src, dst, compress=True):
    r = ScapReader(src)
    return write_capture(dst, r.initial, r, compress=compress)


@pytest.mark.parametrize("name", OLD_CAPTURES)
def test_round_trip_sysdig_prints_identical_output(name, tmp_path):
    src = capture_path(name)
    dst = tmp_path / name
    _rewrite(src, dst)
    a = _sysdig(src, "-p", FIELDS)
    b = _sysdig(dst, "-p", FIELDS)
    assert a.splitlines() == b.splitlines()
    for chisel in ("ps", "lsof"):
        assert _sysdig(src, "-c", chisel) == _sysdig(dst, "-c", chisel)


@pytest.mark.parametrize("name", [*OLD_CAPTURES, "falco044_evtgen_mix.scap"])
@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_tercel_reads_back_identically(name, compress, tmp_path):
    src = capture_path(name)
    dst = tmp_path / "out.scap"
    n = _rewrite(src, dst, compress)
    r1, r2 = ScapReader(src), ScapReader(dst)
    assert r2.gzipped == compress
    e1, e2 = list(r1), list(r2)
    assert n == len(e1) == len(e2)
    for (b1, o1, c1, f1), (b2, o2, c2, f2) in zip(e1, e2, strict=True):
        ln = struct.unpack_from("<I", b1, o1 + 16)[0]
        assert (bytes(b1[o1:o1 + ln]), c1, f1) == (bytes(b2[o2:o2 + ln]), c2, f2)
    s1, s2 = r1.initial, r2.initial
    assert s1.machine == s2.machine and s1.users == s2.users and s1.groups == s2.groups
    assert [(i.name, i.addr, i.netmask, i.bcast) for i in s1.interfaces] == \
        [(i.name, i.addr, i.netmask, i.bcast) for i in s2.interfaces]
    assert [(p.tid, p.pid, p.comm, p.exe, p.args, p.env, p.cgroups, p.cwd, p.uid, p.loginuid) for p in s1.procs] == \
        [(p.tid, p.pid, p.comm, p.exe, p.args, p.env, p.cgroups, p.cwd, p.uid, p.loginuid) for p in s2.procs]
    newest = {R.FD_BPF, R.FD_USERFAULTFD, R.FD_IOURING, R.FD_MEMFD, R.FD_PIDFD}
    fds1 = [(f.tid, f.fd, R.FD_UNSUPPORTED if f.type in newest else f.type, f.name, f.sip, f.sport) for f in s1.fds]
    assert fds1 == [(f.tid, f.fd, f.type, f.name, f.sip, f.sport) for f in s2.fds]


def test_sysdig_reads_rewritten_newest_capture(tmp_path):
    """sysdig 0.29 refuses falco044_evtgen_mix.scap ("wrong fd type 17"); the rewrite it reads."""
    dst = tmp_path / "mix.scap"
    _rewrite(capture_path("falco044_evtgen_mix.scap"), dst)
    out = _sysdig(dst, "-p", "*%evt.num %evt.type %proc.name", "evt.type=execve")
    lines = out.decode(errors="replace").splitlines()
    assert len(lines) > 100 and all(" execve " in ln for ln in lines)


def test_synthetic_capture_state_seen_by_sysdig(tmp_path):
    st = R.InitialState(
        machine=R.MachineInfo(num_cpus=2, memory_size_bytes=1 << 30, max_pid=32768, hostname="box"),
        procs=[R.ProcRecord(1, 1, 0, comm="init", exe="/sbin/init", exepath="/sbin/init", cwd="/", uid=0, gid=0,
                            fdlimit=1024),
               R.ProcRecord(42, 42, 1, comm="cat", exe="cat", exepath="/usr/bin/cat", args=["/etc/passwd"],
                            cwd="/home/alice", uid=1000, gid=1000, fdlimit=1024, env=["A=1"],
                            cgroups=[("cpu", "/user.slice")], loginuid=1000)],
        fds=[R.FdRecord(42, 3, R.FD_FILE_V2, name="/etc/passwd", open_flags=1),
             R.FdRecord(42, 4, R.FD_IPV4_SOCK, sip=bytes([10, 0, 0, 1]), dip=bytes([10, 0, 0, 2]), sport=4000,
                        dport=443, l4proto=R.L4_TCP),
             R.FdRecord(42, 5, R.FD_MEMFD, name="memfd:x")],
        users=[R.UserRecord(1000, 1000, "alice", "/home/alice", "/bin/bash"), R.UserRecord(0, 0, "root")],
        groups=[R.GroupRecord(1000, "alice")],
        interfaces=[R.InterfaceRecord(R.IF_IPV4, "lo", bytes([127, 0, 0, 1]), bytes([255, 0, 0, 0]),
                                      bytes([127, 255, 255, 255]))])
    dst = tmp_path / "syn.scap"
    with ScapWriter(dst, initial=st) as w:
        ts = 1_700_000_000_000_000_000
        w.write_event(encode_event(ts, 42, 6, [struct.pack("<qI", 3, 100)[:8], struct.pack("<I", 100)]))
        w.write_event(encode_event(ts + 1, 42, 7, [struct.pack("<q", 5), b"hello"]))
    out = _sysdig(dst, "-p", "%evt.num %proc.name %proc.exepath %user.name %user.loginuid %group.name "
                  "%fd.name %evt.type %evt.args").decode()
    assert out.splitlines() == [
        "1 cat /usr/bin/cat alice 1000 alice /etc/passwd read fd=3(<f>/etc/passwd) size=100 ",
        "2 cat /usr/bin/cat alice 1000 alice /etc/passwd read res=5 data=hello ",
    ]
    lsof = _sysdig(dst, "-c", "lsof").decode()
    assert "10.0.0.1:4000->10.0.0.2:443" in lsof and "memfd:x" in lsof
