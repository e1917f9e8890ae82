"""Loads tercel.bpf.o, wires its maps, attaches the hooks and hands out the ring reader.

Failures become a `DriverError` whose message is one line naming the missing piece (privileges, BTF,
lockdown, the compiled object, libbpf), checked before libbpf is asked so the reason is precise.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tercel.driver.errors import DriverError
from tercel.driver.interest import PROCEXIT
from tercel.driver.libbpf import LibBpf, errno_now
from tercel.driver.ringbuf import RingReader
from tercel.driver.syscall_tables import NR_X86_64, PPM_SC

NR_SLOTS = 512
MIN_KERNEL = (6, 2)  # bpf_rdonly_cast (6.2), bpf_loop (5.17), ring buffer, tp_btf  # size of the per-syscall maps in the BPF program
BTF_PATH = Path("/sys/kernel/btf/vmlinux")
LOCKDOWN_PATH = Path("/sys/kernel/security/lockdown")
UID_MAP_PATH = Path("/proc/self/uid_map")
DEFAULT_OBJECT = Path(__file__).resolve().parent / "bpf" / "tercel.bpf.o"

# syscall -> BPF handler program; every other syscall goes to the generic handler
HANDLERS: dict[str, str] = {
    name: f"sx_{name}"
    for name in (
        "execve execveat clone fork vfork clone3 open openat openat2 creat close dup dup2 dup3 pipe "
        "pipe2 socket bind connect listen accept accept4 sendto recvfrom sendmsg recvmsg rename "
        "renameat renameat2 link linkat symlink symlinkat unlink unlinkat mkdir mkdirat rmdir chmod "
        "fchmod fchmodat chdir fchdir chroot setuid setgid setresuid setresgid setreuid setregid setns "
        "unshare capset ptrace kill tkill tgkill mount umount2 memfd_create init_module finit_module "
        "bpf userfaultfd prctl"
    ).split()
}

_CFG = struct.Struct("<IIQQII")  # struct tercel_cfg
_CAP_SYS_ADMIN, _CAP_PERFMON, _CAP_BPF = 21, 38, 39


@dataclass(slots=True, frozen=True)
class DriverCounters:
    sent: int
    dropped: int
    failed: int
    dropped_per_cpu: tuple[int, ...]


def _effective_caps() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def _in_user_namespace() -> bool:
    """True when this process's user namespace is not the initial one (its uid map is not the identity
    over all 2^32 ids), where capabilities look present but the kernel refuses BPF."""
    try:
        first = Path(UID_MAP_PATH).read_text().split()
    except OSError:
        return False
    return first[:3] != ["0", "0", "4294967295"]


_NR_BPF_X86_64 = 321
_BPF_MAP_CREATE = 0


def _bpf_syscall_refused() -> int:
    """Create and close a one-entry array map: the errno when the kernel refuses the bpf() syscall
    itself (a seccomp profile, an LSM, ENOSYS), else 0. Costs one syscall pair."""
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    attr = ctypes.create_string_buffer(struct.pack("<IIIII", 2, 4, 4, 1, 0), 128)  # ARRAY, k 4, v 4, 1
    fd = libc.syscall(ctypes.c_long(_NR_BPF_X86_64), ctypes.c_int(_BPF_MAP_CREATE), attr, ctypes.c_uint(128))
    if fd >= 0:
        os.close(fd)
        return 0
    err = ctypes.get_errno()
    return err if err in (errno.EPERM, errno.EACCES, errno.ENOSYS) else 0


def preflight() -> None:
    """Raise DriverError naming the first missing requirement for live capture."""
    machine = platform.machine()
    if machine != "x86_64":
        raise DriverError(f"live capture supports x86_64 only (this machine is {machine})")
    release = platform.release()
    try:
        version = tuple(int(x) for x in release.split("-")[0].split(".")[:2])
    except ValueError:
        version = MIN_KERNEL
    if version < MIN_KERNEL:
        raise DriverError(f"kernel {release} is too old: the BPF driver needs Linux >= "
                          f"{MIN_KERNEL[0]}.{MIN_KERNEL[1]} (bpf_loop, bpf_rdonly_cast, tp_btf)")
    caps = _effective_caps()
    has_bpf = caps >> _CAP_BPF & 1 and caps >> _CAP_PERFMON & 1
    if not (caps >> _CAP_SYS_ADMIN & 1 or has_bpf):
        raise DriverError(
            f"eBPF capture needs root or CAP_BPF+CAP_PERFMON (+CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH); "
            f"running as uid {os.geteuid()} without them"
        )
    if _in_user_namespace():
        raise DriverError(
            "running inside a user namespace: eBPF needs root or CAP_BPF+CAP_PERFMON in the host's "
            "initial user namespace (capabilities inside a user namespace do not count)"
        )
    if not BTF_PATH.exists():
        raise DriverError(f"kernel BTF missing ({BTF_PATH}): a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed")
    try:
        lockdown = LOCKDOWN_PATH.read_text()
    except OSError:
        lockdown = ""
    if "[confidentiality]" in lockdown:
        raise DriverError("kernel lockdown is in confidentiality mode: BPF may not read kernel memory")
    err = _bpf_syscall_refused()
    if err == errno.ENOSYS:
        raise DriverError("the kernel has no bpf() system call (built without CONFIG_BPF_SYSCALL)")
    if err:
        raise DriverError(f"the bpf() system call is refused ({errno.errorcode[err]}) although privileges "
                          "are present: a seccomp profile or a security module blocks BPF here")


class Driver:
    """One loaded and attached instance of the BPF program."""

    def __init__(
        self,
        obj_path: str | os.PathLike[str] | None = None,
        ring_bytes: int = 8 << 20,
        snaplen: int = 0,
        wake_bytes: int = 1 << 20,
        exclude_tgid: int | None = None,
        drop_failed: bool = False,
    ) -> None:
        self.obj_path = Path(obj_path or os.environ.get("TERCEL_BPF_OBJECT") or DEFAULT_OBJECT)
        self.ring_bytes = ring_bytes
        self.snaplen = snaplen
        self.wake_bytes = min(wake_bytes, ring_bytes // 2)
        self.exclude_tgid = os.getpid() if exclude_tgid is None else exclude_tgid
        self._lib: LibBpf | None = None
        self._obj: int | None = None
        self._links: list[int] = []
        self._fds: dict[str, int] = {}
        self._ncpus = 1
        self._procexit = True
        self.drop_failed = drop_failed
        self.ring: RingReader | None = None
        self.load_seconds = 0.0

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self, syscalls: Iterable[str] | None = None) -> Driver:
        """Load, configure and attach. `syscalls` is the initial interest set (names; see interest.py);
        None sends nothing until set_interest is called."""
        preflight()
        if not self.obj_path.is_file():
            raise DriverError(f"BPF object {self.obj_path} not built: run `make -C {self.obj_path.parent}`")
        t0 = time.perf_counter()
        lib = self._lib = LibBpf()
        obj = lib.bpf_object__open_file(str(self.obj_path).encode(), None)
        if not obj:
            raise DriverError(f"cannot open BPF object {self.obj_path}: {os.strerror(errno_now())}")
        self._obj = obj
        self._ncpus = max(1, lib.libbpf_num_possible_cpus())
        lib.bpf_map__set_max_entries(self._map("tercel_scratch_map"), self._ncpus)
        lib.bpf_map__set_max_entries(self._map("tercel_ring"), self.ring_bytes)
        rc = lib.bpf_object__load(obj)
        if rc:
            err = -rc if rc < 0 else errno_now()
            detail = lib.last_error_lines()
            self.close()
            if err in (errno.EPERM, errno.EACCES) and "lockdown" in detail.lower():
                raise DriverError("kernel lockdown refused the BPF program")
            if err == errno.EPERM:
                raise DriverError(
                    "loading BPF was refused (EPERM): missing CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN, "
                    "or unprivileged BPF disabled by policy"
                )
            raise DriverError(f"BPF program failed to load ({os.strerror(err)}): {detail[-300:]}")
        for name in ("tercel_cfg_map", "tercel_interest", "tercel_ppm_sc", "tercel_exit_progs",
                     "tercel_ring", "tercel_counters"):
            self._fds[name] = lib.bpf_map__fd(self._map(name))
        self._write_cfg()
        self._fill_tables()
        self.set_interest(syscalls or ())
        for prog in ("tercel_sys_exit", "tercel_exec", "tercel_procexit"):
            p = lib.bpf_object__find_program_by_name(obj, prog.encode())
            link = lib.bpf_program__attach(p) if p else None
            if not link:
                err = errno_now()
                self.close()
                raise DriverError(f"cannot attach {prog}: {os.strerror(err)} (tp_btf tracepoints unavailable?)")
            self._links.append(link)
        self.ring = RingReader(self._fds["tercel_ring"], self.ring_bytes)
        self.load_seconds = time.perf_counter() - t0
        return self

    def close(self) -> None:
        lib = self._lib
        if self.ring is not None:
            self.ring.close()
            self.ring = None
        if lib is not None:
            for link in self._links:
                lib.bpf_link__destroy(link)
            self._links.clear()
            if self._obj:
                lib.bpf_object__close(self._obj)
        self._obj = None
        self._fds.clear()

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- maps -----------------------------------------------------------------------------------
    def _map(self, name: str) -> int:
        assert self._lib is not None and self._obj is not None
        m = self._lib.bpf_object__find_map_by_name(self._obj, name.encode())
        if not m:
            raise DriverError(f"BPF object {self.obj_path} has no map {name} (stale build?)")
        return int(m)

    def _update(self, map_name: str, key: int, value: bytes) -> None:
        assert self._lib is not None
        k = ctypes.c_uint32(key)
        v = ctypes.create_string_buffer(value, len(value))
        rc = self._lib.bpf_map_update_elem(self._fds[map_name], ctypes.byref(k), v, 0)
        if rc:
            raise DriverError(f"updating BPF map {map_name}[{key}] failed: {os.strerror(-rc if rc < 0 else errno_now())}")

    def _write_cfg(self) -> None:
        boot_ns = time.time_ns() - time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        self._update("tercel_cfg_map", 0, _CFG.pack(self.exclude_tgid, self.snaplen, boot_ns,
                                                      self.wake_bytes, int(self._procexit),
                                                      int(self.drop_failed)))

    def _fill_tables(self) -> None:
        assert self._lib is not None and self._obj is not None
        lib, obj = self._lib, self._obj
        names = {nr: name for name, nr in NR_X86_64.items()}
        prog_fd: dict[str, int] = {}
        for prog in {*HANDLERS.values(), "sx_generic"}:
            p = lib.bpf_object__find_program_by_name(obj, prog.encode())
            if not p:
                raise DriverError(f"BPF object {self.obj_path} has no program {prog} (stale build?)")
            prog_fd[prog] = lib.bpf_program__fd(p)
        for nr in range(NR_SLOTS):
            name = names.get(nr, "")
            self._update("tercel_exit_progs", nr, struct.pack("<I", prog_fd[HANDLERS.get(name, "sx_generic")]))
            self._update("tercel_ppm_sc", nr, struct.pack("<H", PPM_SC.get(name, 0)))

    def set_interest(self, syscalls: Iterable[str]) -> None:
        """Replace, in place, the set of syscalls (names) whose exits are sent; `procexit` toggles
        process-exit events. Unknown names are ignored (rule event types that are not syscalls)."""
        wanted = set(syscalls)
        nrs = {NR_X86_64[n] for n in wanted if n in NR_X86_64}
        for nr in range(NR_SLOTS):
            self._update("tercel_interest", nr, b"\x01" if nr in nrs else b"\x00")
        self._procexit = PROCEXIT in wanted
        self._write_cfg()

    def counters(self) -> DriverCounters:
        """Kernel counters summed over CPUs: events sent, dropped because the ring was full, and
        events lost for lack of scratch space."""
        assert self._lib is not None
        vals = (ctypes.c_uint64 * self._ncpus)()
        out = []
        for key in range(3):
            k = ctypes.c_uint32(key)
            rc = self._lib.bpf_map_lookup_elem(self._fds["tercel_counters"], ctypes.byref(k), vals)
            out.append(tuple(vals) if rc == 0 else (0,) * self._ncpus)
        return DriverCounters(sum(out[0]), sum(out[1]), sum(out[2]), out[1])
