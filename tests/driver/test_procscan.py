"""The /proc scan describes a running process, its threads and fds (files, sockets, pipes, memfd)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tercel.capture import procscan
from tercel.capture.records import (
    FD_FIFO,
    FD_FILE_V2,
    FD_IPV4_SERVSOCK,
    FD_IPV4_SOCK,
    FD_MEMFD,
    FD_UNIX_SOCK,
    L4_TCP,
    L4_UDP,
)

CHILD = r"""
import os, socket, sys, threading, time
lst = socket.socket(); lst.bind(('127.0.0.1', 0)); lst.listen(1)
cli = socket.socket(); cli.connect(lst.getsockname()); acc, _ = lst.accept()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(('127.0.0.1', 0))
uni = socket.socket(socket.AF_UNIX); uni.bind(sys.argv[2]); uni.listen(1)
f = open(sys.argv[1], 'a')
r, w = os.pipe()
m = os.memfd_create('scan-me')
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
print(lst.getsockname()[1], cli.getsockname()[1], udp.getsockname()[1], f.fileno(), r, m, cli.fileno(), flush=True)
time.sleep(30)
"""


@pytest.fixture
def child(tmp_path: Path):
    logf = tmp_path / "log.txt"
    sock = tmp_path / "s.sock"
    env = dict(os.environ, TERCEL_SCAN_MARK="yes")
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(logf), str(sock), "extra-arg"], stdout=subprocess.PIPE,
                         text=True, cwd=tmp_path, env=env)
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        yield p.pid, [int(x) for x in line.split()], logf, sock, tmp_path
    finally:
        p.kill()
        p.wait()


def test_scan_finds_process_threads_and_fds(child) -> None:
    pid, (lport, cport, uport, ffd, rfd, mfd, cfd), logf, sock, cwd = child
    procs, fds = procscan.scan_processes()
    mine = [p for p in procs if p.pid == pid]
    main = next(p for p in mine if p.tid == pid)
    assert len(mine) >= 2 and all(p.flags == 0x2001 for p in mine if p.tid != pid)
    assert main.ptid == os.getpid()
    assert main.exepath == os.path.realpath(sys.executable)
    assert main.args[-1] == "extra-arg" and main.args[0] == "-c"
    assert main.cwd == str(cwd)
    assert "TERCEL_SCAN_MARK=yes" in main.env
    assert main.uid == os.geteuid() and main.comm.startswith("python")
    assert main.fdlimit > 0 and main.vmrss_kb > 0 and main.cgroups
    byfd = {f.fd: f for f in fds if f.tid == pid}
    assert byfd[ffd].type == FD_FILE_V2 and byfd[ffd].name == str(logf)
    assert byfd[ffd].ino == os.stat(logf).st_ino and byfd[ffd].open_flags & 0x8  # PPM_O_APPEND
    assert byfd[rfd].type == FD_FIFO
    assert byfd[mfd].type == FD_MEMFD and "scan-me" in byfd[mfd].name
    servers = [f for f in byfd.values() if f.type == FD_IPV4_SERVSOCK]
    assert any(f.sport == lport and f.l4proto == L4_TCP and f.sip == b"\x7f\0\0\1" for f in servers)
    assert any(f.sport == uport and f.l4proto == L4_UDP for f in servers)
    conn = byfd[cfd]
    assert conn.type == FD_IPV4_SOCK and (conn.sport, conn.dport) == (cport, lport)
    assert conn.sip == conn.dip == b"\x7f\0\0\1"
    assert any(f.type == FD_UNIX_SOCK and f.name == str(sock) for f in byfd.values())


def test_full_scan_has_machine_users_interfaces() -> None:
    st = procscan.scan(with_fds=False)
    assert st.machine is not None and st.machine.num_cpus >= 1 and st.machine.boot_ts_epoch > 0
    assert any(u.uid == 0 and u.name == "root" for u in st.users)
    assert any(i.name == "lo" and i.addr == b"\x7f\0\0\1" for i in st.interfaces)
    assert any(p.pid == os.getpid() for p in st.procs)


def test_open_flags_and_dev_encoding() -> None:
    assert procscan.open_flags_to_ppm(os.O_RDONLY) == 1
    assert procscan.open_flags_to_ppm(os.O_WRONLY | os.O_CREAT | os.O_TRUNC) == 2 | 4 | 0x100
    assert procscan.open_flags_to_ppm(os.O_RDWR | os.O_CLOEXEC) == 3 | 0x1000
    assert procscan.encode_dev(os.makedev(254, 0)) == 65024
    assert procscan.encode_dev(os.makedev(8, 300)) == (300 & 0xFF) | (8 << 8) | ((300 & ~0xFF) << 12)
