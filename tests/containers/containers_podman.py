"""Real podman containers for the container tests (../shared/reference/containers.md): runc and explicit
rlimits through CONTAINERS_CONF, a busybox image imported from a local root filesystem (no registry),
and `podman system service` on a socket in a temporary directory for the API. Everything a test
creates is removed at the end (containers, image, service)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

CONF = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n'


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "podman containers need root here"
    for tool in ("podman", "runc", "busybox"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install podman runc busybox-static)"
    return None


class Podman:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        conf = tmp / "containers.conf"
        conf.write_text(CONF)
        self.env = dict(os.environ, CONTAINERS_CONF=str(conf))
        self.socket = str(tmp / "podman.sock")
        self.image = f"localhost/tercel-ctest:{uuid.uuid4().hex[:8]}"
        self.containers: list[str] = []
        self.service: subprocess.Popen[bytes] | None = None

    def run_podman(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
        return r

    def build_image(self) -> None:
        busybox = shutil.which("busybox")
        assert busybox is not None
        root = self.tmp / "rootfs"
        for d in ("bin", "etc", "tmp", "root"):
            (root / d).mkdir(parents=True, exist_ok=True)
        shutil.copy(busybox, root / "bin" / "busybox")
        applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
        for a in applets:
            if a != "busybox" and "/" not in a:
                (root / "bin" / a).symlink_to("busybox")
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        (root / "etc" / "group").write_text("root:x:0:\nshadow:x:42:\n")
        shadow = root / "etc" / "shadow"
        shadow.write_text("root:*:19000:0:99999:7:::\n")
        shadow.chmod(0o640)
        tar = self.tmp / "rootfs.tar"
        with tarfile.open(tar, "w") as tf:
            tf.add(root, arcname=".", filter=_numeric_root)
        self.run_podman("import", "--change", 'CMD ["/bin/sh"]', str(tar), self.image, timeout=120)

    def start_service(self, timeout: float = 15.0) -> None:
        self.service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{self.socket}"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.service.poll() is not None:
                err = self.service.stderr.read().decode(errors="replace") if self.service.stderr else ""
                raise RuntimeError(f"podman system service exited: {err[-500:]}")
            if os.path.exists(self.socket):
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(self.socket)
                    return
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.05)
        raise RuntimeError("podman system service did not come up")

    def run(self, *args: str, cmd: tuple[str, ...] = ("sleep", "300")) -> tuple[str, str]:
        """`podman run -d` a container of the test image; returns (name, full id)."""
        name = f"tercel-ctest-{uuid.uuid4().hex[:8]}"
        self.containers.append(name)
        r = self.run_podman("run", "-d", "--name", name, *args, self.image, *cmd)
        return name, r.stdout.strip().splitlines()[-1]

    def close(self) -> None:
        for name in self.containers:
            self.run_podman("rm", "-f", "-t", "0", name, check=False)
        self.containers.clear()
        if self.service is not None:
            self.service.terminate()
            try:
                self.service.wait(10)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait(5)
            if self.service.stderr:
                self.service.stderr.close()
            self.service = None
        self.run_podman("rmi", "-f", self.image, check=False)


def _numeric_root(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti
