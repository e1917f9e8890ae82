"""The canonical demo, live through the CLI: tercel with the official stable rules; a podman container
is started, a shell is opened in it with a terminal (`podman exec -it`) and reads /etc/shadow. Both
official rules fire ("Terminal shell in container", "Read sensitive file untrusted") with the
container's id, name and image repository (and the pod/namespace of its CRI labels), looked up from
the runtime's API socket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from containers_podman import Podman

pytestmark = [pytest.mark.live, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
OFFICIAL_RULES = REPO / ".." / "shared" / "rules" / "falcosecurity" / "falco_rules.yaml"
BPF_OBJECT = REPO / "src" / "tercel" / "driver" / "bpf" / "tercel.bpf.o"
DEFAULT_CONFIG = REPO / "src" / "tercel" / "data" / "tercel.yaml"
CANARY = "/tmp/tercel-ctest-canary-"
CANARY_RULE = f"""\
- rule: Container test canary
  desc: readiness probe of the container demo test
  condition: evt.type in (open, openat, openat2) and fd.name startswith {CANARY}
  output: canary (file=%fd.name)
  priority: NOTICE
"""


def _live_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "live capture needs root (eBPF)"
    if not Path("/sys/kernel/btf/vmlinux").exists():
        return "kernel has no BTF: the CO-RE driver cannot load"
    if not BPF_OBJECT.is_file():
        return f"BPF object not built ({BPF_OBJECT}): run ./dev.sh setup"
    if not OFFICIAL_RULES.is_file():
        return f"official rules not found at {OFFICIAL_RULES} (../shared is missing)"
    try:
        from tercel.driver.loader import preflight

        preflight()
    except Exception as exc:  # the driver's own reason
        return f"live capture is not possible here: {exc}"
    return None


class _Tercel:
    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tercel", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=dict(os.environ, TZ="UTC"))
        self.alerts: list[dict[str, Any]] = []
        self.err: list[str] = []
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._out, daemon=True),
                         threading.Thread(target=self._errs, daemon=True)]
        for t in self._readers:
            t.start()

    def _out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                try:
                    a = json.loads(line)
                except ValueError:
                    continue
                with self._cond:
                    self.alerts.append(a)
                    self._cond.notify_all()

    def _errs(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.err.append(line)
                self._cond.notify_all()

    def wait(self, pred: Any, timeout: float) -> Any:
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                got = pred()
                if got or time.monotonic() >= end or self.proc.poll() is not None:
                    return got
                self._cond.wait(0.2)

    def ready(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            path = f"{CANARY}{uuid.uuid4().hex}"
            Path(path).write_text("x\n")
            try:
                subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
            finally:
                os.unlink(path)
            if self.wait(lambda p=path: [a for a in self.alerts if a["output_fields"].get("fd.name") == p], 2):
                return
        raise AssertionError("tercel never became ready; stderr:\n" + "".join(self.err)[-3000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for t in self._readers:
            t.join(10)


def test_shell_in_container_reads_shadow(podman: Podman, tmp_path: Path) -> None:
    reason = _live_skip_reason()
    if reason:
        pytest.skip(reason)
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text())
    cfg.update(json_output=True, priority="debug", buffered_outputs=False)
    cfg["append_output"] = [{"suggested_output": True}, {"extra_fields": ["fd.name", "proc.tty"]}]
    cfg["plugins"] = [{"name": "container", "init_config": {"engines": {
        "podman": {"enabled": True, "sockets": [podman.socket]}, "docker": {"enabled": False},
        "cri": {"enabled": False}, "containerd": {"enabled": False}}}}]
    (tmp_path / "tercel.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "canary.yaml").write_text(CANARY_RULE)
    tercel = _Tercel(["-c", str(tmp_path / "tercel.yaml"), "-r", str(OFFICIAL_RULES),
                      "-r", str(tmp_path / "canary.yaml"), "-o", "json_output=true"])
    try:
        tercel.ready()
        name, full = podman.run("--label", "io.kubernetes.pod.name=shop-web-1",
                                "--label", "io.kubernetes.pod.namespace=shop")
        cid = full[:12]

        def ours(rule: str) -> list[dict[str, Any]]:
            return [a for a in tercel.alerts if a["rule"] == rule and a["output_fields"].get("container.id") == cid]

        want = ("Terminal shell in container", "Read sensitive file untrusted")
        for _attempt in range(3):  # a busy shared machine may drop events: the user would try again too
            r = subprocess.run(["podman", "exec", "-it", name, "sh", "-c", "cat /etc/shadow >/dev/null; exit 0"],
                               env=podman.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            if tercel.wait(lambda: all(ours(rule) for rule in want), 15):
                break
        repo = podman.image.rsplit(":", 1)[0]
        for rule in want:
            got = ours(rule)
            assert got, (f"no {rule!r} alert for container {cid}; alerts: "
                         f"{json.dumps([a['rule'] for a in tercel.alerts])}\n" + "".join(tercel.err)[-2000:])
            f = got[0]["output_fields"]
            assert (f["container.name"], f["container.image.repository"]) == (name, repo), f
            assert f["container.image.tag"] == podman.image.rsplit(":", 1)[1]
            assert (f["k8s.pod.name"], f["k8s.ns.name"]) == ("shop-web-1", "shop")
            assert f["proc.tty"] != 0
            assert f"container_id={cid} container_name={name} container_image_repository={repo}" in got[0]["output"]
        assert ours("Read sensitive file untrusted")[0]["output_fields"]["fd.name"] == "/etc/shadow"
    finally:
        tercel.stop()


def test_invalid_container_config_is_one_clear_error() -> None:
    reason = _live_skip_reason()
    if reason:
        pytest.skip(reason)
    r = subprocess.run([sys.executable, "-m", "tercel", "-r", str(OFFICIAL_RULES), "-M", "1",
                        "-o", "plugins[0].name=container", "-o", "plugins[0].init_config.engines.podman.sockets=x"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "plugins[container].init_config.engines.podman.sockets: expected a list of socket paths" in r.stderr
    assert "Traceback" not in r.stderr
