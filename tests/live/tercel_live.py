"""Support for the end-to-end live tests: tercel run as users run it (a subprocess of the real CLI with
the official rules), real syscalls from child processes, alerts read from its JSON output.

The machine is shared (other suites trigger the same rules at the same time), so alerts are matched by
the pid of the process a test started, never by rule name alone. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
OFFICIAL_RULES = SHARED / "rules" / "falcosecurity" / "falco_rules.yaml"
BPF_OBJECT = REPO / "src" / "tercel" / "driver" / "bpf" / "tercel.bpf.o"
DEFAULT_CONFIG = REPO / "src" / "tercel" / "data" / "tercel.yaml"
# Marks the processes the test rules (network, canary) look at, through proc.cmdline.
NET_MARK = "tercel-live-net"
CANARY_DIR = "/tmp"
CANARY_PREFIX = "tercel-live-canary-"
# Fields every alert carries in output_fields (append_output), so any alert can be matched by pid.
EXTRA_FIELDS = ["proc.pid", "proc.ppid", "proc.name", "proc.pname", "user.name", "user.uid",
                "fd.name", "fd.sip", "fd.sport", "fd.l4proto", "evt.type"]

TEST_RULES = f"""\
- rule: Tercel live canary
  desc: tercel's readiness probe (the fixture opens a fresh file until this fires)
  condition: evt.type in (open, openat, openat2) and fd.name startswith {CANARY_DIR}/{CANARY_PREFIX}
  output: canary opened (file=%fd.name pid=%proc.pid)
  priority: NOTICE

- rule: Test TCP connect to loopback
  desc: a marked process connected a TCP socket to 127.0.0.1
  condition: >
    evt.type = connect and fd.l4proto = tcp and fd.sip = 127.0.0.1
    and proc.cmdline contains "{NET_MARK}"
  output: tcp connect (server=%fd.sip:%fd.sport proto=%fd.l4proto client=%fd.cip:%fd.cport)
  priority: NOTICE

- rule: Test UDP send on loopback
  desc: a marked process sent a UDP datagram to 127.0.0.1
  condition: >
    evt.type in (sendto, sendmsg) and fd.l4proto = udp and fd.sip = 127.0.0.1
    and proc.cmdline contains "{NET_MARK}"
  output: udp send (server=%fd.sip:%fd.sport proto=%fd.l4proto client=%fd.cip:%fd.cport)
  priority: NOTICE

- rule: Test send on a connection made before tercel
  desc: the program started before tercel writes to the TCP connection it opened then
  condition: >
    evt.type in (sendto, sendmsg, write) and fd.l4proto = tcp and fd.sip = 127.0.0.1
    and proc.name = earlybird
  output: early send (server=%fd.sip:%fd.sport proto=%fd.l4proto client=%fd.cip:%fd.cport fd=%fd.num)
  priority: NOTICE
"""


def live_skip_reason() -> str | None:
    """Why live tests cannot run here (None when they can)."""
    if sys.platform != "linux":
        return "live tests need Linux"
    if os.geteuid() != 0:
        return "live tests need root (eBPF)"
    if not Path("/sys/kernel/btf/vmlinux").exists():
        return "kernel has no BTF (/sys/kernel/btf/vmlinux): the CO-RE driver cannot load"
    try:
        tracing = "tracefs" in Path("/proc/filesystems").read_text()
    except OSError:
        tracing = False
    if not tracing:
        return "kernel has no tracefs/tracepoint support"
    if not BPF_OBJECT.is_file():
        return f"BPF object not built ({BPF_OBJECT}): run ./dev.sh setup"
    try:
        from tercel.driver.loader import preflight

        preflight()
    except Exception as exc:  # the driver's own one-line reason
        return f"live capture is not possible here: {exc}"
    if not OFFICIAL_RULES.is_file():
        return f"official rules not found at {OFFICIAL_RULES} (../shared is missing)"
    return None


def write_config(tmp: Path, **overrides: Any) -> Path:
    """The built-in configuration plus JSON alerts on stdout, every priority, and the extra fields."""
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text())
    cfg.update(json_output=True, log_stderr=True, priority="debug", buffered_outputs=False)
    cfg["append_output"] = [{"suggested_output": True}, {"extra_fields": list(EXTRA_FIELDS)}]
    for key, value in overrides.items():
        node = cfg
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    path = tmp / "tercel-live.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def write_test_rules(tmp: Path) -> Path:
    path = tmp / "tercel-live-rules.yaml"
    path.write_text(TEST_RULES)
    return path


def tercel_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "tercel", *args]


class Tercel:
    """A running `tercel` (live) whose JSON alerts are collected by a reader thread."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(tercel_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=dict(os.environ, TZ="UTC", **(env or {})))
        self.alerts: list[dict[str, Any]] = []
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()
        self.canary_pids: set[int] = set()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            alert = None
            if line.startswith("{"):
                try:
                    alert = json.loads(line)
                except ValueError:
                    alert = None
            with self._cond:
                self.stdout_lines.append(line)
                if isinstance(alert, dict):
                    self.alerts.append(alert)
                self._cond.notify_all()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.stderr_lines.append(line)
                self._cond.notify_all()

    def _wait(self, pred: Callable[[], Any], timeout: float) -> Any:
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                got = pred()
                if got:
                    return got
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not any(t.is_alive() for t in self._threads)):
                    return got
                self._cond.wait(min(left, 0.2))

    def stderr(self) -> str:
        with self._cond:
            return "".join(self.stderr_lines)

    def wait_log(self, text: str, timeout: float = 60.0) -> None:
        if not self._wait(lambda: any(text in x for x in self.stderr_lines), timeout):
            raise AssertionError(f"tercel did not log {text!r} within {timeout}s; stderr:\n{self.stderr()}")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Ready = the driver is attached (log line) and an event made after that reached the rules:
        a fresh canary file is opened until its alert comes back."""
        self.wait_log("Opening 'syscall' source", timeout)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            path = Path(CANARY_DIR) / f"{CANARY_PREFIX}{uuid.uuid4().hex}"
            path.write_text("canary\n")
            try:
                subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
            finally:
                path.unlink()
            if self._wait(lambda path=path: [a for a in self.alerts if a.get("rule") == "Tercel live canary"
                                             and a["output_fields"].get("fd.name") == str(path)], 2.0):
                return
            if self.proc.poll() is not None:
                break
        raise AssertionError(f"tercel never alerted on the canary; stderr:\n{self.stderr()}")

    def find(self, rule: str, **fields: Any) -> list[dict[str, Any]]:
        with self._cond:
            return [a for a in self.alerts if a.get("rule") == rule
                    and all(a["output_fields"].get(k.replace("__", ".")) == v for k, v in fields.items())]

    def wait_alert(self, rule: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The first alert of `rule` whose output_fields hold `fields` (proc__pid=1 for proc.pid=1)."""
        got = self._wait(lambda: self.find(rule, **fields), timeout)
        if not got:
            with self._cond:
                near = [a for a in self.alerts if a.get("rule") == rule][-5:]
            raise AssertionError(f"no {rule!r} alert with {fields} within {timeout}s; "
                                 f"recent alerts of that rule: {json.dumps(near)[:3000]}\n"
                                 f"tercel stderr:\n{self.stderr()[-2000:]}")
        return dict(got[0])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for t in self._threads:
            t.join(10)
        return self.proc.returncode


# --- triggers: each runs real syscalls in child processes and says which alert it expects -----------

@dataclass
class Expect:
    """An alert a trigger must produce: its rule, and output fields (dotted names) with their values."""

    rule: str
    fields: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)

    def kw(self) -> dict[str, Any]:
        return {k.replace(".", "__"): v for k, v in self.fields.items()}


def _run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}): {r.stderr}"
    return r


def trigger_shadow_read() -> Expect:
    """`cat /etc/shadow` from a shell. The official condition holds: open_read of a sensitive_files name,
    cat is in none of the trusted-program lists, its parent sh is not one of the run_by_* exceptions.
    The shell prints its pid first, so the alert is matched by proc.ppid."""
    r = _run(["sh", "-c", "echo $$; cat /etc/shadow >/dev/null"])
    sh_pid = int(r.stdout.split()[0])
    return Expect("Read sensitive file untrusted",
                  {"proc.ppid": sh_pid, "proc.name": "cat", "proc.pname": "sh", "fd.name": "/etc/shadow",
                   "user.name": "root", "user.uid": 0})


def trigger_shadow_read_as_nobody() -> Expect:
    """The same read by uid 65534 (nobody), allowed through the ambient CAP_DAC_READ_SEARCH, so the
    open succeeds (open_read needs fd.num >= 0) and user.name must come from the tracked credentials."""
    if shutil.which("setpriv") is None:
        import pytest

        pytest.skip("setpriv (util-linux) is not installed: cannot switch users with a capability")
    r = _run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+dac_read_search",
              "--ambient-caps=+dac_read_search", "sh", "-c", "echo $$; cat /etc/shadow >/dev/null"])
    sh_pid = int(r.stdout.split()[0])
    name = _user_name(65534)
    return Expect("Read sensitive file untrusted",
                  {"proc.ppid": sh_pid, "proc.name": "cat", "proc.pname": "sh", "fd.name": "/etc/shadow",
                   "user.name": name, "user.uid": 65534})


def _user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


EARLY_CODE = """\
import ctypes, os, signal, socket, sys, time
ctypes.CDLL(None).prctl(15, b"earlybird", 0, 0, 0)  # PR_SET_NAME: a comm only the /proc scan can know
got = []
signal.signal(signal.SIGUSR1, lambda *_: got.append(1))
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))  # before tercel: known from /proc only
print(os.getpid(), conn.getsockname()[1], conn.fileno(), flush=True)
end = time.monotonic() + 120
while not got and time.monotonic() < end:
    time.sleep(0.05)
with open("/etc/shadow") as f:
    f.read(1)
conn.send(b"x")
print("read", flush=True)
"""


class EarlyProgram:
    """A program started before tercel (by a shell that stays its parent), which opens /etc/shadow only
    when signalled: everything tercel knows about it (name, parent, user) comes from its /proc scan.
    It runs as uid 65534 with the ambient CAP_DAC_READ_SEARCH (when setpriv exists), so its user too
    must come from the scan."""

    def __init__(self) -> None:
        # `; exit $?` keeps sh alive as the parent instead of exec'ing python in its place
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(30)
        self.port = self.server.getsockname()[1]
        cmd = ["sh", "-c", 'echo $$; "$0" -c "$1" "$2"; exit $?', sys.executable, EARLY_CODE, str(self.port)]
        self.uid = 0
        if shutil.which("setpriv"):
            self.uid = 65534
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+dac_read_search",
                   "--ambient-caps=+dac_read_search", *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.sh_pid = int(self.proc.stdout.readline())
        self.pid, self.client_port, self.fd = (int(x) for x in self.proc.stdout.readline().split())
        self.conn, _ = self.server.accept()

    def fire(self) -> Expect:
        os.kill(self.pid, signal.SIGUSR1)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "read"
        self.proc.wait(20)
        return Expect("Read sensitive file untrusted",
                      {"proc.pid": self.pid, "proc.ppid": self.sh_pid, "proc.name": "earlybird",
                       "proc.pname": "sh", "fd.name": "/etc/shadow", "user.uid": self.uid,
                       "user.name": _user_name(self.uid)})

    def send_expect(self) -> Expect:
        """After fire(): its write on the TCP connection it made before tercel started."""
        assert self.conn.recv(1) == b"x"
        return Expect("Test send on a connection made before tercel",
                      {"proc.pid": self.pid, "fd.sip": "127.0.0.1", "fd.sport": self.port, "fd.l4proto": "tcp"},
                      {"client_port": self.client_port, "fd": self.fd})

    def close(self) -> None:
        self.conn.close()
        self.server.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def trigger_symlink(tmp: Path) -> Expect:
    """`ln -s /etc/shadow LINK`: a symlinkat whose target is in sensitive_file_names (the whole official
    condition: create_symlink and evt.arg.target in the list)."""
    link = tmp / f"shadow-link-{uuid.uuid4().hex[:8]}"
    p = subprocess.Popen(["ln", "-s", "/etc/shadow", str(link)])
    assert p.wait(20) == 0
    link.unlink()
    return Expect("Create Symlink Over Sensitive Files",
                  {"proc.pid": p.pid, "proc.name": "ln", "evt.arg.target": "/etc/shadow",
                   "evt.arg.linkpath": str(link)})


MEMFD_CODE = """\
import os, sys
fd = os.memfd_create(sys.argv[1])
with open("/bin/true", "rb") as f:
    os.write(fd, f.read())
os.execv(f"/proc/self/fd/{fd}", ["tercel-memfd"])
"""


def trigger_memfd_exec(name: str = "tercel-live") -> Expect:
    """execve of a memfd holding /bin/true: the kernel marks the exe as from a memfd (EXE_FROM_MEMFD,
    proc.is_exe_from_memfd). Neither the process (its comm becomes the fd number) nor its parent (the
    test's python) is runc, and the exe path is not runc's cloned binary, so known_memfd_execution_processes
    does not excuse it. proc.exepath is "memfd:NAME", as Falco's drivers report it."""
    p = subprocess.Popen([sys.executable, "-c", MEMFD_CODE, name])
    assert p.wait(20) == 0
    return Expect("Fileless execution via memfd_create",
                  {"proc.pid": p.pid, "evt.type": "execve", "proc.exepath": f"memfd:{name}"})


def trigger_devshm_exec() -> Expect:
    """A copy of /bin/true placed in /dev/shm and executed by its full path: proc.exe (argv[0]) starts
    with /dev/shm/, and a host process has no container image in the trusted lists."""
    shm = Path("/dev/shm")
    exe = shm / f"tercel-live-{uuid.uuid4().hex[:8]}"
    shutil.copyfile("/bin/true", exe)
    exe.chmod(0o755)
    try:
        p = subprocess.Popen([str(exe)])
        assert p.wait(20) == 0
    finally:
        exe.unlink()
    return Expect("Execution from /dev/shm", {"proc.pid": p.pid, "proc.name": exe.name[:15]})


def devshm_noexec() -> bool:
    try:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 3 and parts[1] == "/dev/shm":
                return "noexec" in parts[3].split(",")
    except OSError:
        pass
    return False


PTRACE_CODE = """\
import ctypes, os, signal, time
victim = os.fork()
if victim == 0:
    time.sleep(20); os._exit(0)
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
assert libc.ptrace(16, victim, None, None) == 0, ctypes.get_errno()   # PTRACE_ATTACH
os.waitpid(victim, 0)
libc.ptrace(17, victim, None, None)                                    # PTRACE_DETACH
os.kill(victim, signal.SIGKILL); os.waitpid(victim, 0)
print(victim, flush=True)
"""


def trigger_ptrace_attach() -> Expect:
    """PTRACE_ATTACH to the process's own child: ptrace_attach_or_injection holds (request contains
    PTRACE_ATTACH), the process has a name, and known_ptrace_binaries is empty in the official file."""
    p = subprocess.Popen([sys.executable, "-c", PTRACE_CODE], stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 0 and out.strip()
    return Expect("PTRACE attached to process", {"proc.pid": p.pid, "evt.type": "ptrace"})


TCP_CLIENT = """\
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
s.close()
"""

UDP_CLIENT = """\
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"tercel", ("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
s.close()
"""


def trigger_tcp_connect() -> Expect:
    """A TCP listener on 127.0.0.1 (here) and a marked client process that connects to it."""
    with socket.create_server(("127.0.0.1", 0)) as srv:
        port = srv.getsockname()[1]
        p = subprocess.Popen([sys.executable, "-c", TCP_CLIENT, str(port), NET_MARK],
                             stdout=subprocess.PIPE, text=True)
        conn, _ = srv.accept()
        conn.close()
        out, _ = p.communicate(timeout=20)
    assert p.returncode == 0
    return Expect("Test TCP connect to loopback",
                  {"proc.pid": p.pid, "fd.sip": "127.0.0.1", "fd.sport": port, "fd.l4proto": "tcp"},
                  {"client_port": int(out)})


def trigger_udp_send() -> Expect:
    """A UDP socket bound on 127.0.0.1 (here) and a marked client that sends it one datagram (sendto)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.settimeout(20)
        port = srv.getsockname()[1]
        p = subprocess.Popen([sys.executable, "-c", UDP_CLIENT, str(port), NET_MARK],
                             stdout=subprocess.PIPE, text=True)
        data, _ = srv.recvfrom(64)
        out, _ = p.communicate(timeout=20)
    assert p.returncode == 0 and data == b"tercel"
    return Expect("Test UDP send on loopback",
                  {"proc.pid": p.pid, "fd.sip": "127.0.0.1", "fd.sport": port, "fd.l4proto": "udp"},
                  {"client_port": int(out)})

