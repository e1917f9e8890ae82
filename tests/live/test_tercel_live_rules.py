"""`tercel -r falco_rules.yaml` (the official stable rules, unmodified) running live as a subprocess:
real syscalls from child processes fire the official rules with the right process, file, user and
network fields. One tercel for the whole module; each wait is bounded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tercel_live as tl

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def early(live_ok: None) -> Iterator[tl.EarlyProgram]:
    prog = tl.EarlyProgram()  # started before tercel (the tercel fixture depends on this one)
    try:
        yield prog
    finally:
        prog.close()


@pytest.fixture(scope="module")
def tercel(early: tl.EarlyProgram, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tl.Tercel]:
    tmp = tmp_path_factory.mktemp("tercel-live")
    t = tl.Tercel(["-c", str(tl.write_config(tmp)), "-r", str(tl.OFFICIAL_RULES),
                   "-r", str(tl.write_test_rules(tmp)), "-o", "json_output=true", "-U"])
    try:
        t.wait_ready()
        yield t
    finally:
        rc = t.stop()
        assert rc == 0, t.stderr()


def check(t: tl.Tercel, exp: tl.Expect, timeout: float = 10.0) -> dict:
    alert = t.wait_alert(exp.rule, timeout, **exp.kw())
    assert alert["source"] == "syscall"
    return alert


def test_cat_shadow_from_shell(tercel: tl.Tercel) -> None:
    alert = check(tercel, tl.trigger_shadow_read())
    assert alert["priority"] == "Warning"
    f = alert["output_fields"]
    assert f["proc.exepath"] == str(Path("/usr/bin/cat").resolve()) or f["proc.exepath"].endswith("/cat")
    assert f["proc.cmdline"] == "cat /etc/shadow"
    assert f["evt.type"] in ("open", "openat", "openat2")
    assert "Sensitive file opened for reading by non-trusted program | file=/etc/shadow" in alert["output"]


def test_cat_shadow_as_another_user(tercel: tl.Tercel) -> None:
    check(tercel, tl.trigger_shadow_read_as_nobody())


def test_program_started_before_tercel(tercel: tl.Tercel, early: tl.EarlyProgram) -> None:
    alert = check(tercel, early.fire())
    assert "earlybird" in alert["output"] and "parent=sh" in alert["output"]
    # its TCP connection, made before tercel, is known from the /proc scan of its fds
    exp = early.send_expect()
    sent = check(tercel, exp)
    assert f"client=127.0.0.1:{exp.notes['client_port']} fd={exp.notes['fd']})" in sent["output"]


def test_symlink_over_shadow(tercel: tl.Tercel, tmp_path: Path) -> None:
    check(tercel, tl.trigger_symlink(tmp_path))


def test_memfd_create_exec(tercel: tl.Tercel) -> None:
    alert = check(tercel, tl.trigger_memfd_exec())
    assert "EXE_FROM_MEMFD" in alert["output_fields"]["evt.arg.flags"]


def test_memfd_exec_named_like_runc_is_excused(tercel: tl.Tercel) -> None:
    """The official exception `proc.exepath = "memfd:runc_cloned:/proc/self/exe"` (runc re-executes
    itself from a memfd at every container start) holds only if the path is reported as Falco does."""
    excused = tl.trigger_memfd_exec("runc_cloned:/proc/self/exe")
    control = tl.trigger_memfd_exec()
    check(tercel, control)  # events are processed in ring order: the first exec was seen before this
    assert not tercel.find(excused.rule, proc__pid=excused.fields["proc.pid"])


def test_exec_from_dev_shm(tercel: tl.Tercel) -> None:
    if tl.devshm_noexec():
        pytest.skip("/dev/shm is mounted noexec here: nothing can be executed from it")
    alert = check(tercel, tl.trigger_devshm_exec())
    assert alert["output_fields"]["proc.exepath"].startswith("/dev/shm/tercel-live-")


def test_ptrace_attach(tercel: tl.Tercel) -> None:
    alert = check(tercel, tl.trigger_ptrace_attach())
    assert "PTRACE_ATTACH" in alert["output"] or alert["output_fields"]["evt.type"] == "ptrace"


def test_tcp_connect_loopback(tercel: tl.Tercel) -> None:
    exp = tl.trigger_tcp_connect()
    alert = check(tercel, exp)
    assert f"client=127.0.0.1:{exp.notes['client_port']}" in alert["output"]


def test_udp_send_loopback(tercel: tl.Tercel) -> None:
    exp = tl.trigger_udp_send()
    alert = check(tercel, exp)
    # an unconnected UDP socket has no local address yet (the kernel, like Falco's drivers, says 0.0.0.0)
    assert f":{exp.notes['client_port']})" in alert["output"]
