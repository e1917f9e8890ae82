"""State engine on events built byte for byte: newest exit-only events, both clone sides, fd
tables, credentials, containers, bounded memory and hostile input."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_scenario import (
    BASH,
    CAT,
    DOCKER_ID,
    NGINX,
    THREAD,
    event,
    feed,
    initial_state,
    nul_items,
    scenario_events,
    socktuple_in,
)

from tercel.capture import records as R
from tercel.fields import registry
from tercel.state import eventtable as et
from tercel.state.containers import container_id
from tercel.state.inspector import Inspector
from tercel.state.threadinfo import ThreadInfo, ThreadTable
from tercel.state.users import UserTable


def field(evt: Any, name: str, arg: str | None = None) -> Any:
    found = registry.resolve(name)
    assert found is not None, name
    return registry.make_extractor(found[0], arg if arg is not None else found[1])(evt)


def full(ts: int, evtid: int, code: int, **kw: Any) -> bytes:
    """A newest-generation event: every parameter of the current table, no enter event."""
    return event(ts, evtid, code, nparams=len(et.TABLE[code].params), **kw)


def test_scenario_state_2022() -> None:
    insp = Inspector(initial_state())
    evts = feed(insp, scenario_events())
    by_num = {e.num: e for e in evts}
    cat = insp.threads.get(CAT)
    assert cat is not None and cat.comm == "cat" and cat.exepath == "/usr/bin/cat"
    assert cat.args == ("/etc/passwd",) and cat.uid == 0 and cat.gid == 0  # setuid/setgid pairs
    assert cat.sid == CAT and cat.get_cwd() == "/tmp/"
    # relative open against the cwd, normalised; failed open keeps no fd
    assert cat.fdtable.get(4) is None or cat.fdtable.get(4).name == "/home/u/notes.txt"
    assert cat.fdtable.get(5).name == "/tmp/b.txt"
    assert cat.fdtable.get(3) is None  # closed
    assert cat.fdtable.get(6).name == "/etc/passwd"  # dup of 3
    assert cat.fdtable.get(11).type == R.FD_FIFO and cat.fdtable.get(13).type == R.FD_EVENT
    # the thread shares the process's fd table; its parent is the creating thread
    th = insp.threads.get(THREAD)
    assert th is not None and th.fdtable is cat.fdtable and th.pid == CAT
    read_by_thread = by_num[29]
    assert field(read_by_thread, "fd.name") == "/home/u/notes.txt"
    assert field(read_by_thread, "proc.aname", "1") == "bash"
    # socket tuples and roles
    connect = by_num[33]
    assert field(connect, "fd.name") == "127.0.0.1:40000->127.0.0.1:80"
    assert field(connect, "fd.l4proto") == "tcp" and field(connect, "fd.sport") == 80
    accept = by_num[61]
    assert field(accept, "container.id") == DOCKER_ID[:12]
    assert field(accept, "fd.sip") == "127.0.0.1" and field(accept, "fd.is_server") is True
    # exited processes are purged from lookups only later, but are marked dead
    forked = insp.threads.get(400)
    assert forked is None or forked.dead
    run = next(e for e in evts if e.tid == 400 and e.name == "execve" and e.is_exit)
    assert field(run, "proc.exepath") == "/home/u/run.sh"
    assert field(run, "proc.aname") == ("bash", "systemd")


def test_newest_exit_only_events() -> None:
    insp = Inspector(initial_state())
    ts = 2_000_000_000_000_000_000
    raw = [
        full(ts + 1, BASH, 223, res=CAT, exe="bash", args=b"", tid=BASH, pid=BASH, ptid=1,
             cwd="/home/u", comm="bash", cgroups=nul_items("cpuset=/", f"memory=/docker/{DOCKER_ID}"),
             flags=0, uid=1000, gid=1000, vtid=BASH, vpid=BASH),
        full(ts + 2, CAT, 293, res=0, exe="/memfd:x", args=nul_items("-c", "id"), tid=CAT, pid=CAT,
             ptid=BASH, cwd="/home/u", comm="3", cgroups=nul_items(f"cpuset=/docker/{DOCKER_ID}"),
             env=nul_items("HOME=/root"), tty=0, pgid=CAT, loginuid=0xFFFFFFFF, flags=4 | 1,
             cap_inheritable=0, cap_permitted=(1 << 21) | 1, cap_effective=1 << 21, exe_ino=77,
             uid=0, trusted_exepath="/memfd:x (deleted)", gid=0),
        full(ts + 3, CAT, 307, fd=3, dirfd=-100, name="/etc/shadow", flags=1 | (1 << 12), mode=0,
             dev=1, ino=5),
        full(ts + 4, CAT, 7, res=4, data=b"root", fd=3, size=10),
        full(ts + 5, CAT, 19, fd=4, domain=2, type=1, proto=0),
        full(ts + 6, CAT, 23, res=0, tuple=socktuple_in("10.0.0.5", 40000, "1.2.3.4", 443), fd=4,
             addr=b""),
        full(ts + 7, CAT, 363, res=1, oldfd=4, newfd=1),
        full(ts + 8, CAT, 5, res=0, fd=3),
        full(ts + 9, CAT, 405, fd=6, name="payload", flags=0),
        full(ts + 10, CAT, 353, res=0, cap_inheritable=0, cap_permitted=0, cap_effective=0),
        full(ts + 11, CAT, 193, res=0, ruid=1000, euid=1000, suid=1000),
        full(ts + 12, CAT, 151, res=9, fd=6, cmd=26),
        full(ts + 13, CAT, 186, status=0, ret=0, sig=0, core=0, reaper_tid=1),
    ]
    evts = feed(insp, raw[:7])
    exe, openat, read, sock, connect, dup2 = evts[1:7]
    assert field(exe, "proc.name") == "3" and field(exe, "proc.exepath") == "/memfd:x (deleted)"
    assert field(exe, "proc.is_exe_from_memfd") is True and field(exe, "proc.is_exe_writable") is True
    assert field(exe, "thread.cap_effective") == "CAP_SYS_ADMIN"
    assert field(exe, "thread.cap_permitted") == "CAP_CHOWN CAP_SYS_ADMIN"
    assert field(exe, "proc.pname") == "bash" and field(exe, "user.loginuid") == -1
    assert field(exe, "user.name") == "root" and field(exe, "container.id") == DOCKER_ID[:12]
    assert field(exe, "proc.env", "HOME") == "/root"
    assert field(openat, "fd.name") == "/etc/shadow" and field(openat, "evt.is_open_read") is True
    assert field(openat, "fd.num") == 3 and field(openat, "fs.path.name") == "/etc/shadow"
    assert field(read, "evt.buffer") == b"root"
    assert field(sock, "fd.typechar") == "4"
    assert field(connect, "fd.sip") == "1.2.3.4" and field(connect, "fd.rport") == 443
    assert field(connect, "fd.lip") == "10.0.0.5" and field(connect, "fd.is_server") is False
    assert field(dup2, "fd.type") == "ipv4" and field(dup2, "evt.rawres") == 1
    feed(insp, raw[7:])
    th = insp.threads.get(CAT)
    assert th is not None
    assert th.fdtable.get(3) is None  # close(3), removed when the next event came
    assert th.fdtable.get(1).name == "10.0.0.5:40000->1.2.3.4:443"
    assert th.fdtable.get(6).type == R.FD_MEMFD and th.fdtable.get(9).cloexec
    assert th.cap_effective == 0 and th.uid == 1000
    # execve closed nothing but cloexec fds: /etc/shadow was opened after it, fd 9 survives
    assert th.dead or insp.exited


def test_close_on_exec_and_clone_copies() -> None:
    insp = Inspector(initial_state())
    ts = 3_000_000_000_000_000_000
    feed(insp, [
        full(ts + 1, BASH, 307, fd=7, dirfd=-100, name="/etc/hosts", flags=1 | (1 << 12)),
        full(ts + 2, BASH, 307, fd=8, dirfd=-100, name="/etc/group", flags=1),
        full(ts + 3, BASH, 225, res=500, exe="bash", tid=BASH, pid=BASH, ptid=1, comm="bash",
             flags=0, uid=1000, gid=1000),
        full(ts + 4, 500, 293, res=0, exe="ls", args=b"", tid=500, pid=500, ptid=BASH, comm="ls",
             flags=0),
    ])
    bash, child = insp.threads.get(BASH), insp.threads.get(500)
    assert bash is not None and child is not None
    assert bash.fdtable.get(7) is not None and child.fdtable.get(7) is None  # cloexec at execve
    assert child.fdtable.get(8).name == "/etc/group" and child.fdtable is not bash.fdtable
    assert child.ptid == BASH and child.get_cwd() == "/home/u/"


def test_procexit_reaper_reparents_children() -> None:
    insp = Inspector(initial_state())
    ts = 4_000_000_000_000_000_000
    feed(insp, [
        full(ts + 1, BASH, 223, res=600, exe="sh", tid=BASH, pid=BASH, ptid=1, comm="sh", flags=0),
        full(ts + 2, BASH, 186, status=0, ret=0, sig=0, core=0, reaper_tid=NGINX),
        full(ts + 3, 600, 7, res=0, fd=0, data=b""),
    ])
    child = insp.threads.get(600)
    assert child is not None and child.ptid == NGINX and insp.threads.get(BASH).dead


def test_container_ids() -> None:
    cid = "0123456789abcdef" * 4
    cases = {
        f"/docker/{cid}": cid[:12],
        f"/system.slice/docker-{cid}.scope": cid[:12],
        f"/kubepods.slice/kubepods-pod1.slice/cri-containerd-{cid}.scope": cid[:12],
        f"/kubepods/besteffort/pod1/{cid}": cid[:12],
        f"/machine.slice/crio-{cid}.scope": cid[:12],
        f"/libpod_parent/libpod-{cid}": cid[:12],
        f"/machine.slice/libpod-{cid}.scope/container": cid[:12],
        f"/machine.slice/libpod-conmon-{cid}.scope": "host",
        "/process_api/7fddfcafee4165d0ccdfce5ea5ebb472": "host",
        "/user.slice/user-1000.slice/session-1.scope": "host",
        "/": "host",
    }
    for path, want in cases.items():
        assert container_id([("memory", path)]) == want, path
    assert container_id([]) == "host"


def test_bounded_tables() -> None:
    table = ThreadTable(max_threads=100)
    for tid in range(1000):
        table.add(ThreadInfo(tid=tid, pid=tid))
    assert len(table) == 100
    for t in list(table)[:50]:
        table.mark_dead(t)
    table.add(ThreadInfo(tid=5000, pid=5000))
    assert len(table) == 100 and table.get(5000) is not None
    # hostile stream: clone exits inventing a new child each time
    insp = Inspector(initial_state(), max_threads=64)
    evts = [full(10 + i, BASH, 223, res=10_000 + i, exe="x", tid=BASH, pid=BASH, ptid=1, comm="x",
                 flags=0) for i in range(500)]
    feed(insp, evts)
    assert len(insp.threads) <= 64


def test_users_from_etc(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\n"
                                "alice:x:1000:1000::/home/alice:/bin/zsh\n")
    (etc / "group").write_text("root:x:0:\nalice:x:1000:\n")
    users = UserTable.from_etc(tmp_path)
    assert users.user(1000).shell == "/bin/zsh" and users.group(1000).name == "alice"
    assert UserTable.from_etc(tmp_path / "missing").users == {}


def test_poll_and_fspath_fields() -> None:
    insp = Inspector(initial_state())
    fds = struct.pack("<H", 2) + struct.pack("<qH", 0, 1) + struct.pack("<qH", 99, 1)
    ts = 5_000_000_000_000_000_000
    poll, unlinkat, mkdir = feed(insp, [
        full(ts + 1, BASH, 81, res=1, fds=fds, timeout=0),
        full(ts + 2, BASH, 303, res=0, dirfd=-100, name="old.txt", flags=0),
        full(ts + 3, BASH, 277, res=0, path="/tmp/newdir", mode=0o755),
    ])
    assert field(poll, "fdlist.nums") == "0,99"
    assert field(poll, "fdlist.names") == "/dev/pts/0,<NA>"
    assert field(unlinkat, "fs.path.name") == "/home/u/old.txt"
    assert field(unlinkat, "fs.path.nameraw") == "old.txt"
    assert field(unlinkat, "evt.abspath") == "/home/u/old.txt"
    assert field(mkdir, "fs.path.name") == "/tmp/newdir"


_EXTRACTORS = [(f.name, registry.make_extractor(f, "1" if f.arg.value == "required" else None))
               for f in registry.fields()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 420), st.integers(0, 4), st.integers(0, 12),
                          st.lists(st.binary(max_size=24), max_size=12)), min_size=1, max_size=20))
def test_hostile_events_never_crash(specs: list[tuple[int, int, int, list[bytes]]]) -> None:
    """Any event code with any parameter count and bytes: state and every field survive."""
    from tercel.capture.scap_writer import encode_event

    insp = Inspector(initial_state())
    for i, (code, tidsel, _n, params) in enumerate(specs):
        tid = (BASH, CAT, NGINX, 1, 77)[tidsel]
        evt = insp.process(encode_event(1000 + i, tid, code, params), 0, 0, 0)
        for _name, ext in _EXTRACTORS:
            ext(evt)


def test_user_added_events_per_container() -> None:
    insp = Inspector(initial_state())
    cid = DOCKER_ID[:12]
    ts = 6_000_000_000_000_000_000
    evts = feed(insp, [
        event(ts + 1, 0, 354, uid=0, gid=0, name="toor", home="/root", shell="/bin/sh", container_id=cid),
        event(ts + 2, 0, 358, gid=101, name="nginx", container_id=cid),
        event(ts + 3, 0, 354, uid=4242, gid=4242, name="svc", home="/", shell="/bin/false",
              container_id=""),
        full(ts + 4, NGINX, 7, res=0, fd=6, data=b""),
        full(ts + 5, BASH, 7, res=0, fd=0, data=b""),
    ])
    assert all(e.thread is None for e in evts[:3])  # meta events invent no thread
    assert field(evts[3], "user.name") == "toor"  # the container's own passwd
    assert field(evts[4], "user.name") == "alice"  # the host's
    assert insp.users.user(4242).name == "svc"
    assert insp.threads.get(0) is None


def test_live_container_users_from_its_root(tmp_path: Path) -> None:
    etc = tmp_path / "proc" / str(NGINX) / "root" / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/ash\nwww:x:33:33::/var/www:/bin/false\n")
    (etc / "group").write_text("root:x:0:\nwww:x:33:\n")
    state = initial_state()
    state.users = []  # live: no capture user list; host users would come from /etc
    insp = Inspector(state, users=UserTable(), proc_root=str(tmp_path))
    (evt,) = feed(insp, [full(10, NGINX, 7, res=0, fd=6, data=b"")])
    assert field(evt, "user.name") == "root" and field(evt, "user.shell") == "/bin/ash"
    assert field(evt, "group.name") == "root"
    assert DOCKER_ID[:12] in insp.users.containers


def test_bpf_and_userfaultfd_fds() -> None:
    """Kept out of the sysdig scenario: sysdig 0.29 crashes printing evt.res of a bpf exit, and
    2022 libsinsp did not track userfaultfd fds (current Falco does)."""
    insp = Inspector(initial_state())
    bpf_e, bpf_x, uffd_e, uffd_x, bpf2 = feed(insp, [
        event(10, BASH, 296, cmd=5),
        event(11, BASH, 297, res_or_fd=b"\x00" + (9).to_bytes(8, "little")),
        event(12, BASH, 320),
        event(13, BASH, 321, res=10, flags=0),
        full(14, BASH, 369, fd=11, cmd=5),
    ])
    assert field(bpf_x, "fd.type") == "bpf" and field(bpf_x, "fd.num") == 9
    assert field(uffd_x, "fd.type") == "userfaultfd" and field(uffd_x, "fd.typechar") == "u"
    assert field(bpf2, "fd.num") == 11 and insp.threads.get(BASH).fdtable.get(11).type == R.FD_BPF


def test_full_table_evicts_unknown_threads_before_known_ones() -> None:
    insp = Inspector(initial_state(), max_threads=10)
    # a flood of events from unknown tids never pushes init or bash out of a full table
    feed(insp, [full(100 + i, 9000 + i, 7, res=0, fd=0, data=b"") for i in range(200)])
    assert len(insp.threads) <= 10
    assert insp.threads.get(1) is not None and insp.threads.get(BASH) is not None


def test_udp_sendto_is_not_connected_but_renames() -> None:
    """The stable rule 'Disallowed SSH Connection Non Standard Port' needs, on the first datagram
    to a new peer: fd.connected=false, fd.name_changed=true, fd.l4proto=udp."""
    insp = Inspector(initial_state())
    tup = socktuple_in("10.0.0.5", 5000, "8.8.8.8", 2222)
    sock, first, again = feed(insp, [
        full(10, BASH, 19, fd=9, domain=2, type=2, proto=0),
        full(11, BASH, 31, res=4, data=b"ping", fd=9, size=4, tuple=tup),
        full(12, BASH, 31, res=4, data=b"ping", fd=9, size=4, tuple=tup),
    ])
    assert field(first, "fd.connected") is False and field(first, "fd.name_changed") is True
    assert field(first, "fd.l4proto") == "udp" and field(first, "fd.sport") == 2222
    assert field(again, "fd.name_changed") is False


def test_fd_count_is_global_and_given_back() -> None:
    from tercel.state import fdinfo

    before = fdinfo.live_fds()
    insp = Inspector(initial_state())
    feed(insp, [full(100 + i, BASH, 3, fd=10 + i, name=f"/tmp/f{i}", flags=1) for i in range(50)])
    assert fdinfo.live_fds() >= before + 50
    del insp
    feed(Inspector(), [full(1, 1, 7, res=0, fd=0, data=b"")])  # the "current" inspector moves on
    import gc

    gc.collect()
    assert fdinfo.live_fds() <= before + 0  # every table of that inspector was dropped
    old = fdinfo.MAX_TOTAL_FDS
    fdinfo.MAX_TOTAL_FDS = fdinfo.live_fds() + 5
    try:
        table = fdinfo.FdTable()
        for fd in range(20):
            table.add(fd, fdinfo.FdInfo(name=str(fd)))
        assert len(table) == 5 and fdinfo.live_fds() <= fdinfo.MAX_TOTAL_FDS
    finally:
        fdinfo.MAX_TOTAL_FDS = old


def test_prctl_child_subreaper_like_libsinsp() -> None:
    """prctl keeps only the group's child-subreaper attribute (set by PR_SET_CHILD_SUBREAPER or
    read back by PR_GET_CHILD_SUBREAPER, any thread of the group, success only); PR_SET_NAME
    leaves comm/proc.name alone, as libsinsp does."""
    insp = Inspector(initial_state())
    ts = 4_100_000_000_000_000_000
    worker = NGINX + 1
    feed(insp, [full(ts, NGINX, 223, res=worker, exe="nginx", tid=NGINX, pid=NGINX, ptid=1,
                     comm="nginx", flags=0x2001 | 0x8000)])  # a thread of nginx
    insp_feed = feed(insp, [
        full(ts + 1, NGINX, 401, res=-22, option=36, arg2_str="", arg2_int=1),  # failed: no change
        full(ts + 2, worker, 401, res=0, option=36, arg2_str="", arg2_int=80),
        full(ts + 3, NGINX, 401, res=0, option=15, arg2_str="renamed", arg2_int=0),  # PR_SET_NAME
        full(ts + 4, NGINX, 401, res=0, option=22, arg2_str="", arg2_int=2),  # PR_SET_SECCOMP
        full(ts + 5, 9999, 401, res=0, option=36, arg2_str="", arg2_int=1),  # unknown thread
    ])
    ngx, wk = insp.threads.get(NGINX), insp.threads.get(worker)
    assert ngx is not None and wk is not None
    assert ngx.child_subreaper and not wk.child_subreaper  # kept on the main thread
    assert field(insp_feed[0], "evt.type") == "prctl" and field(insp_feed[2], "proc.name") == "nginx"
    assert ngx.comm == "nginx" and wk.comm == "nginx"
    unknown = insp.threads.get(9999)
    assert unknown is None or not unknown.child_subreaper
    feed(insp, [full(ts + 6, worker, 401, res=0, option=37, arg2_str="", arg2_int=0)])
    assert not ngx.child_subreaper  # PR_GET_CHILD_SUBREAPER read back 0
    # a child process does not inherit the attribute
    feed(insp, [
        full(ts + 7, NGINX, 401, res=0, option=36, arg2_str="", arg2_int=1),
        full(ts + 8, NGINX, 223, res=700, exe="nginx", tid=NGINX, pid=NGINX, ptid=1, comm="nginx",
             flags=0),
    ])
    child = insp.threads.get(700)
    assert ngx.child_subreaper and child is not None and not child.child_subreaper


def test_getsockopt_is_state_syscall_but_changes_no_state() -> None:
    """getsockopt is in libs' state set (for connection-status tracking of a non-blocking connect
    through getsockopt(SO_ERROR)); Falco leaves that tracking off, so its exit changes nothing."""
    from tercel.driver.interest import select_syscalls

    assert "getsockopt" in select_syscalls({"open"})
    assert "getsockopt" not in select_syscalls({"open"}, custom_set=["open"])
    insp = Inspector(initial_state())
    ts = 4_200_000_000_000_000_000
    so_error = bytes([1]) + (-111).to_bytes(8, "little", signed=True)  # PT_DYN errno: ECONNREFUSED
    evts = feed(insp, [
        full(ts + 1, NGINX, 19, fd=7, domain=2, type=1, proto=0),
        full(ts + 2, NGINX, 23, res=-115, tuple=socktuple_in("10.0.0.5", 40000, "1.2.3.4", 443), fd=7,
             addr=b""),  # EINPROGRESS
        full(ts + 3, NGINX, 47, res=0, fd=7, level=1, optname=4, val=so_error, optlen=4),
    ])
    nginx = insp.threads.get(NGINX)
    assert nginx is not None
    fi = nginx.fdtable.get(7)
    assert fi is not None and fi.name == "10.0.0.5:40000->1.2.3.4:443" and fi.connected
    assert field(evts[2], "evt.type") == "getsockopt" and field(evts[2], "fd.name") == fi.name
    assert field(evts[2], "evt.res") == "SUCCESS"
