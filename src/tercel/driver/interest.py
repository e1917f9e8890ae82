"""Which syscalls the kernel sends: Falco's `base_syscalls` semantics over syscall names.

- default: the syscalls the rules name plus the state set (what the thread/fd tables need);
- `custom_set`: replaces the state set; names with a leading `!` are removed from the final set;
- `repair: true`: the rules' syscalls + custom_set + the minimal set that keeps process and fd state right;
- `all: true`: every syscall.
`procexit` (the sched_process_exit tracepoint) is part of both state sets; it is not a syscall.
"""

from __future__ import annotations

from collections.abc import Iterable

from tercel.driver.syscall_tables import NR_X86_64

PROCEXIT = "procexit"

# What libsinsp's state engine consumes (process tree, fd table, cwd, users, namespaces).
STATE_SYSCALLS: frozenset[str] = frozenset({
    "accept", "accept4", "bind", "capset", "chdir", "chroot", "clone", "clone3", "close", "connect",
    "creat", "dup", "dup2", "dup3", "eventfd", "eventfd2", "execve", "execveat", "fchdir", "fcntl",
    "fork", "vfork", "inotify_init", "inotify_init1", "io_uring_setup", "memfd_create", "mount",
    "umount2", "open", "openat", "openat2", "open_by_handle_at", "pidfd_getfd", "pidfd_open", "pipe",
    "pipe2", "prctl", "prlimit64", "setrlimit", "recvmsg", "sendmsg", "recvfrom", "sendto", "setgid",
    "setuid", "setresgid", "setresuid", "setreuid", "setregid", "setpgid", "setsid", "setns",
    "unshare", "shutdown", "signalfd", "signalfd4", "socket", "socketpair", "timerfd_create",
    "userfaultfd", "epoll_create", "epoll_create1", "bpf", "listen", PROCEXIT,
    # in libs' state set for connection-status tracking (getsockopt(SO_ERROR) after a
    # non-blocking connect); Falco leaves that tracking off, so it changes no state here
    "getsockopt",
})

# The least that keeps process lineage, credentials and fd names right.
REPAIR_SYSCALLS: frozenset[str] = frozenset({
    "clone", "clone3", "fork", "vfork", "execve", "execveat", "close", "chdir", "fchdir", "chroot",
    "setuid", "setgid", "setresuid", "setresgid", "setreuid", "setregid", "capset", "prctl",
    "setns", "unshare", PROCEXIT,
})
# Added by `repair` when the rules name any fd-creating syscall: fds must stay resolvable.
_FD_REPAIR: frozenset[str] = frozenset({"dup", "dup2", "dup3", "fcntl", "socket", "bind", "connect",
                                        "accept", "accept4", "open", "openat", "openat2", "creat"})
_FD_MAKERS: frozenset[str] = _FD_REPAIR | {"pipe", "pipe2", "memfd_create", "socketpair", "sendto",
                                            "sendmsg", "recvfrom", "recvmsg", "listen"}


def select_syscalls(
    rule_syscalls: Iterable[str] | None,
    custom_set: Iterable[str] = (),
    repair: bool = False,
    all_syscalls: bool = False,
) -> frozenset[str]:
    """The names to trace. `rule_syscalls` None means unbounded (a rule matches any event type)."""
    if all_syscalls or rule_syscalls is None:
        return frozenset(NR_X86_64) | {PROCEXIT}
    wanted = set(rule_syscalls)
    include: set[str] = set()
    exclude: set[str] = set()
    for name in custom_set:
        name = name.strip()
        if name.startswith("!"):
            exclude.add(name[1:].strip())
        elif name:
            include.add(name)
    if repair:
        base = set(REPAIR_SYSCALLS)
        if (wanted | include) & _FD_MAKERS:
            base |= _FD_REPAIR
    elif include:
        base = set()
    else:
        base = set(STATE_SYSCALLS)
    final = (wanted | include | base) - exclude
    return frozenset(n for n in final if n in NR_X86_64 or n == PROCEXIT)
