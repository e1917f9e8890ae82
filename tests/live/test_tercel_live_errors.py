"""`tercel` (live) where eBPF cannot be used exits 1 with one clear line naming the missing piece:
started as a non-root user, as root stripped of every capability, and as root of a user namespace
(where capabilities look present but the kernel refuses BPF)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import tercel_live as tl

pytestmark = pytest.mark.live


def run(prefix: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root to start tercel as another user or without capabilities")
    if shutil.which(prefix[0]) is None:
        pytest.skip(f"{prefix[0]} (util-linux) is not installed")
    if not tl.OFFICIAL_RULES.is_file():
        pytest.skip(f"official rules not found at {tl.OFFICIAL_RULES}")
    # the rules must be readable by the unprivileged user: the failure must be about BPF, not the file
    probe = subprocess.run([*prefix, "cat", str(tl.OFFICIAL_RULES.resolve())], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"{prefix} cannot run or read the rules here: {probe.stderr.decode(errors='replace')}")
    return subprocess.run([*prefix, *tl.tercel_cmd("-r", str(tl.OFFICIAL_RULES.resolve()))],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ, TZ="UTC"))


def one_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("tercel: ") and "Traceback" not in r.stderr
    return lines[0]


def test_non_root_user() -> None:
    line = one_line(run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]))
    assert "root or CAP_BPF+CAP_PERFMON" in line and "uid 65534" in line


def test_root_without_capabilities() -> None:
    line = one_line(run(["setpriv", "--bounding-set=-all", "--inh-caps=-all"]))
    assert "root or CAP_BPF+CAP_PERFMON" in line and "uid 0 without them" in line


def test_root_of_a_user_namespace() -> None:
    line = one_line(run(["unshare", "--user", "--map-root-user"]))
    assert "user namespace" in line and "CAP_BPF" in line


# Installs a seccomp filter that fails bpf() with EPERM (as container runtimes' default profiles do),
# then runs the given command (tercel): root with every capability, but BPF unavailable.
NO_BPF_SECCOMP = """\
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def insn(code, jt, jf, k):
    return struct.pack("<HBBI", code, jt, jf, k)
prog = b"".join([
    insn(0x20, 0, 0, 0),                  # ld  [nr]
    insn(0x15, 0, 1, 321),                # jeq __NR_bpf (x86_64)
    insn(0x06, 0, 0, 0x00050000 | 1),     # ret ERRNO(EPERM)
    insn(0x06, 0, 0, 0x7FFF0000),         # ret ALLOW
])
buf = ctypes.create_string_buffer(prog, len(prog))
class FProg(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = FProg(len(prog) // 8, ctypes.addressof(buf))
assert libc.prctl(38, 1, 0, 0, 0) == 0, ctypes.get_errno()                      # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0, ctypes.get_errno()    # SECCOMP_MODE_FILTER
os.execvp(sys.argv[1], sys.argv[1:])
"""


def test_root_with_bpf_blocked_by_seccomp() -> None:
    import sys

    line = one_line(run([sys.executable, "-c", NO_BPF_SECCOMP]))
    assert "bpf() system call is refused (EPERM)" in line and "seccomp" in line
