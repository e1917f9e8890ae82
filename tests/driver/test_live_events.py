"""Real syscalls from child processes reach the live source with the right decoded parameters."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import pytest
from driver_live import Live, run_py

from tercel.capture.procscan import encode_dev
from tercel.driver.syscall_tables import NR_X86_64, PPM_SC
from tercel.state import eventtable as et

pytestmark = pytest.mark.live

PPM_O_RDONLY, PPM_O_WRONLY, PPM_O_CREAT, PPM_O_F_CREATED = 1, 2, 4, 1 << 14
PPM_EXE_FROM_MEMFD = 4
PPM_PTRACE_ATTACH = 11
CLONE_X = {223, 225, 227, 335}
# What real Falco 0.44 emits (falco044_evtgen_mix.scap) where tercel's event table has fewer params
FALCO044_NPARAMS = {19: 5, 151: 4, 227: 21}


def _pid(out: str) -> int:
    return int(out.split()[0])


def test_open_existing_and_created_file(live: Live, tmp_path: Path) -> None:
    existing = tmp_path / "known.txt"
    existing.write_text("x")
    created = tmp_path / "new.txt"
    r = run_py("import os,sys; print(os.getpid()); open(sys.argv[1]).read(); open(sys.argv[2], 'w').close()",
               str(existing), str(created))
    assert r.returncode == 0, r.stderr
    pid = _pid(r.stdout)
    evs = live.gather(lambda e: e.tid == pid and e.type == 307 and e.param_named("name") in
                      (str(existing), str(created)), lambda got: len(got) >= 2)
    by_name = {e.param_named("name"): e for e in evs}
    st = os.stat(existing)
    ev = by_name[str(existing)]
    assert ev.param_named("fd") >= 0
    assert ev.param_named("dirfd") == -100
    assert ev.param_named("flags") & 3 == PPM_O_RDONLY
    assert ev.param_named("ino") == st.st_ino
    assert ev.param_named("dev") == encode_dev(st.st_dev)
    ev2 = by_name[str(created)]
    fl = ev2.param_named("flags")
    assert fl & 3 == PPM_O_WRONLY and fl & PPM_O_CREAT and fl & PPM_O_F_CREATED
    assert ev2.param_named("mode") == 0o666
    assert ev2.param_named("ino") == os.stat(created).st_ino


def test_execve_with_args_env_cwd(live: Live, tmp_path: Path) -> None:
    env = dict(os.environ, TERCEL_TEST_MARK="1")
    r = run_py("import os,sys; os.execv('/bin/true', ['/bin/true', 'alpha', 'beta gamma'])",
               cwd=str(tmp_path), env=env)
    assert r.returncode == 0, r.stderr
    ev = live.wait_for(lambda e: e.type == 293 and e.param_named("exe") == "/bin/true"
                       and e.param_raw(2) == b"alpha\0beta gamma\0")
    assert ev.nparams == 31
    assert ev.param_named("res") == 0
    assert ev.param_named("pid") == ev.tid
    assert ev.param_named("ptid") == os.getpid()
    assert ev.param_named("cwd") == str(tmp_path)
    assert ev.param_named("comm") == "true"
    assert ev.param_named("filename") == "/bin/true"
    assert ev.param_named("trusted_exepath") == os.path.realpath("/bin/true")
    assert b"TERCEL_TEST_MARK=1\0" in ev.param_raw(15)
    assert ev.param_named("uid") == os.geteuid()
    assert ev.param_named("exe_ino") == os.stat("/bin/true").st_ino
    cgroups = ev.param_raw(14)
    assert b"=/" in cgroups and cgroups.endswith(b"\0")


def test_execve_failure_reports_errno(live: Live) -> None:
    r = run_py("import os; print(os.getpid(), flush=True)\n"
               "try: os.execv('/nonexistent/tercel-missing', ['x'])\nexcept OSError: pass")
    pid = _pid(r.stdout)
    ev = live.wait_for(lambda e: e.tid == pid and e.type == 293
                       and e.param_named("filename") == "/nonexistent/tercel-missing")
    assert ev.param_named("res") == -2
    assert ev.param_named("comm") == "python3" or ev.param_named("comm").startswith("python")
    assert ev.param_named("filename") == "/nonexistent/tercel-missing"


def test_fork_clone_and_procexit(live: Live) -> None:
    r = run_py("import os; print(os.getpid(), flush=True)\n"
               "pid = os.fork()\n"
               "if pid == 0: os._exit(3)\n"
               "print(pid, flush=True); os.waitpid(pid, 0)")
    parent, child = (int(x) for x in r.stdout.split())
    evs = live.gather(lambda e: (e.type in CLONE_X and e.tid in (parent, child)) or (e.type == 186 and e.tid == child),
                      lambda got: {(e.type in CLONE_X, e.tid, e.type == 186 or e.param_named("res") != 0) for e in got}
                      >= {(True, parent, True), (True, child, False), (False, child, True)})
    ppar = next(e for e in evs if e.type in CLONE_X and e.tid == parent and e.param_named("res") > 0)
    pchild = next(e for e in evs if e.type in CLONE_X and e.tid == child)
    assert ppar.param_named("res") == child
    assert pchild.param_named("res") == 0
    assert pchild.param_named("pid") == child and pchild.param_named("ptid") == parent
    assert pchild.param_named("vtid") == child
    assert ppar.nparams == 21
    exitev = next(e for e in evs if e.type == 186)
    assert exitev.param_named("ret") == 3 and exitev.param_named("sig") == 0


def test_tcp_connect_accept_and_udp_sendto(live: Live) -> None:
    code = (
        "import os, socket\n"
        "print(os.getpid(), flush=True)\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(4)\n"
        "c = socket.socket(); c.connect(s.getsockname())\n"
        "a, _ = s.accept()\n"
        "print(s.getsockname()[1], c.getsockname()[1], c.fileno(), flush=True)\n"
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "r.bind(('127.0.0.1', 0)); u.sendto(b'ping', r.getsockname()); r.recvfrom(16)\n"
        "print(r.getsockname()[1], u.getsockname()[1], flush=True)\n"
    )
    r = run_py(code)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    pid = int(lines[0])
    sport, cport, cfd = (int(x) for x in lines[1].split())
    uport, usport = (int(x) for x in lines[2].split())
    evs = live.gather(lambda e: e.tid == pid and e.type in (19, 23, 247, 389, 31, 35),
                      lambda got: {e.type for e in got} >= {19, 23, 31, 35} and any(e.type in (247, 389) for e in got))
    sock = next(e for e in evs if e.type == 19)
    assert sock.param_named("domain") == 2 and sock.param_named("type") & 0xF == 1
    conn = next(e for e in evs if e.type == 23)
    assert conn.param_named("res") == 0 and conn.param_named("fd") == cfd
    assert conn.param_named("tuple") == (2, "127.0.0.1", cport, "127.0.0.1", sport)
    assert conn.param_named("addr") == (2, "127.0.0.1", sport)
    acc = next(e for e in evs if e.type in (247, 389))
    assert acc.param(0) >= 0
    assert acc.param(1) == (2, "127.0.0.1", cport, "127.0.0.1", sport)  # client -> server
    snd = next(e for e in evs if e.type == 31)
    assert snd.param_named("res") == 4 and snd.param_named("size") == 4
    # an unconnected UDP socket has no local address yet (Falco's drivers report 0.0.0.0 as well)
    assert snd.param_named("tuple")[2:] == (usport, "127.0.0.1", uport)
    assert snd.param_named("tuple")[1] in ("0.0.0.0", "127.0.0.1")
    assert snd.param_raw(1) == b""  # no payload unless snaplen asks
    rcv = next(e for e in evs if e.type == 35)
    assert rcv.param_named("tuple") == (2, "127.0.0.1", usport, "127.0.0.1", uport)  # peer (client) first


def test_memfd_create_and_exec_from_memfd(live: Live) -> None:
    code = (
        "import os\n"
        "print(os.getpid(), flush=True)\n"
        "fd = os.memfd_create('tercel-memfd', 0)\n"
        "os.write(fd, open('/bin/true', 'rb').read())\n"
        "os.execv(f'/proc/self/fd/{fd}', ['fileless'])\n"
    )
    r = run_py(code)
    assert r.returncode == 0, r.stderr
    pid = _pid(r.stdout)
    evs = live.gather(lambda e: e.tid == pid and (e.type == 405 or e.type == 293 and e.param_named("exe") == "fileless"),
                      lambda got: {e.type for e in got} >= {405, 293})
    mf = next(e for e in evs if e.type == 405)
    assert mf.param_named("name") == "tercel-memfd" and mf.param_named("fd") >= 3
    ex = next(e for e in evs if e.type == 293)
    assert ex.param_named("res") == 0
    assert ex.param_named("flags") & PPM_EXE_FROM_MEMFD
    assert ex.param_named("trusted_exepath") == "memfd:tercel-memfd"  # as Falco's drivers: no leading /


def test_symlink_link_dup2(live: Live, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("t")
    code = (
        "import os, sys\n"
        "print(os.getpid(), flush=True)\n"
        "os.symlink(sys.argv[1], sys.argv[2]); os.link(sys.argv[1], sys.argv[3])\n"
        "fd = os.open(sys.argv[1], os.O_RDONLY); os.dup2(fd, 77)\n"
    )
    r = run_py(code, str(target), str(tmp_path / "sym"), str(tmp_path / "hard"))
    assert r.returncode == 0, r.stderr
    pid = _pid(r.stdout)
    evs = live.gather(lambda e: e.tid == pid and (e.type in (179, 181, 309, 311) or e.type == 363 and e.param(2) == 77),
                      lambda got: len({e.type for e in got}) >= 3)
    sym = next(e for e in evs if e.type in (179, 181))
    assert sym.param_named("target") == str(target)
    assert sym.param_named("linkpath") == str(tmp_path / "sym")
    lnk = next(e for e in evs if e.type in (309, 311))
    assert lnk.param_named("res") == 0 and lnk.param_named("newpath") == str(tmp_path / "hard")
    dup = next(e for e in evs if e.type == 363 and e.param_named("newfd") == 77)
    assert dup.param_named("res") == 77 and dup.param_named("newfd") == 77


def test_ptrace_attach(live: Live) -> None:
    code = (
        "import ctypes, os, signal, time\n"
        "victim = os.fork()\n"
        "if victim == 0:\n"
        "    time.sleep(5); os._exit(0)\n"
        "print(os.getpid(), victim, flush=True)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]\n"
        "assert libc.ptrace(16, victim, None, None) == 0, ctypes.get_errno()\n"
        "os.waitpid(victim, 0)\n"
        "libc.ptrace(17, victim, None, None)\n"
        "os.kill(victim, signal.SIGKILL); os.waitpid(victim, 0)\n"
    )
    r = run_py(code)
    assert r.returncode == 0, r.stderr
    tracer, victim = (int(x) for x in r.stdout.split())
    ev = live.wait_for(lambda e: e.tid == tracer and e.type == 169 and e.param_named("request") == PPM_PTRACE_ATTACH)
    assert ev.param_named("res") == 0
    assert ev.param_named("pid") == victim
    kill = live.wait_for(lambda e: e.tid == tracer and e.type == 129)
    assert kill.param_named("pid") == victim and kill.param_named("sig") == 9


def test_generic_event_carries_syscall_ids(live: Live) -> None:
    r = run_py("import os; print(os.getpid()); os.getppid()")
    pid = _pid(r.stdout)
    ev = live.wait_for(lambda e: e.tid == pid and e.type == 1 and e.param(1) == NR_X86_64["getppid"])
    assert ev.param(0) == PPM_SC["getppid"]
    assert ev.name == "getppid"


def test_interest_map_and_self_exclusion(live: Live, tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.write_text("p")
    live.src.set_interest({"execve", "procexit"})
    try:
        live.drain()
        r = run_py("import os,sys; print(os.getpid()); open(sys.argv[1]).read()", str(probe))
        pid = _pid(r.stdout)
        got = live.collect(lambda e: e.tid == pid and e.type == 307, 0.5)
        assert got == []
    finally:
        from tercel.driver.interest import STATE_SYSCALLS
        from tercel.driver.loader import HANDLERS

        live.src.set_interest(set(HANDLERS) | STATE_SYSCALLS | {"getppid", "procexit"})
    # our own process is never traced
    open(probe).read()
    me = os.getpid()
    evs = live.collect(lambda e: e.tid == me or e.param_named("pid") == me and e.type == 307, 0.3)
    assert evs == []


def test_every_event_matches_the_newest_table(live: Live) -> None:
    run_py("import os, socket; open('/etc/hostname').read(); socket.socket().close(); os.system('true')")
    checked = 0
    for buf, off, _cpu, _fl in live.src.events(0.5):
        ts, tid, ln, etype, nparams = struct.unpack_from("<QQIHI", buf, off)
        info = et.info(etype)
        expected = FALCO044_NPARAMS.get(etype, len(info.params))
        assert nparams == expected, (etype, info.name, nparams)
        lens = struct.unpack_from(f"<{nparams}H", buf, off + 26)
        assert ln == 26 + 2 * nparams + sum(lens)
        assert abs(ts - time.time_ns()) < 60 * 10**9
        checked += 1
    assert checked > 0
    c = live.src.counters()
    assert c.sent > 0 and c.failed == 0
