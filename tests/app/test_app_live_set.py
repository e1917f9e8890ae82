"""Which syscalls live mode asks the kernel for (base_syscalls, -A), without starting the driver."""

from __future__ import annotations

from types import SimpleNamespace

from tercel.app.config import load_config
from tercel.app.live import syscall_set


def session(types, *overrides):
    return SimpleNamespace(cfg=load_config(None, list(overrides)),
                           ruleset=SimpleNamespace(event_types=lambda: types))


def test_rules_plus_state_set():
    got = syscall_set(session(frozenset({"execve", "ptrace"})))
    assert {"execve", "ptrace", "clone", "close", "openat", "procexit"} <= got
    assert "write" not in got and "read" not in got


def test_io_syscalls_need_minus_a():
    got = syscall_set(session(frozenset({"execve", "write", "sendto"})))
    assert "write" not in got and "execve" in got  # (sendto stays: the state set needs it for UDP)
    got = syscall_set(session(frozenset({"execve", "write"}), "base_syscalls.all=true"))
    assert "write" in got and "read" in got


def test_custom_set_and_exclusions():
    got = syscall_set(session(frozenset({"execve"}), "base_syscalls.custom_set=[chmod, '!close']"))
    assert "chmod" in got and "execve" in got and "close" not in got
    got = syscall_set(session(frozenset({"execve"}), "base_syscalls.repair=true"))
    assert {"execve", "clone", "procexit"} <= got and "socket" not in got


def test_unbounded_rules_trace_everything():
    got = syscall_set(session(None))
    assert {"read", "write", "execve", "procexit"} <= got
