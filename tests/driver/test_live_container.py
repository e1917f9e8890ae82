"""Exec inside a real podman container: cgroups name the container, and the exe flags tell the image's
lower layer from a binary written into the container (upper layer), as Falco's drivers do."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
from driver_live import Live

pytestmark = [pytest.mark.live, pytest.mark.slow]

PPM_EXE_UPPER_LAYER, PPM_EXE_LOWER_LAYER = 2, 8
PPM_FD_UPPER_LAYER, PPM_FD_LOWER_LAYER = 1 << 15, 1 << 16
CONF = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n'


def _image(tmp: Path, env: dict[str, str]) -> str:
    busybox = shutil.which("busybox")
    assert busybox is not None
    root = tmp / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "tmp").mkdir()
    shutil.copy(busybox, root / "bin" / "busybox")
    for applet in ("sh", "cp", "sleep", "true", "chmod", "cat"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    tar = tmp / "rootfs.tar"
    with tarfile.open(tar, "w") as tf:
        tf.add(root, arcname=".")
    name = f"localhost/tercel-driver-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(["podman", "import", "--change", 'CMD ["/bin/sh"]', str(tar), name], env=env,
                   check=True, capture_output=True, timeout=120)
    return name


def test_container_exec_layers_and_cgroups(live: Live, tmp_path: Path) -> None:
    if shutil.which("podman") is None or shutil.which("runc") is None or shutil.which("busybox") is None:
        pytest.skip("podman, runc and busybox-static are needed for container tests")
    conf = tmp_path / "containers.conf"
    conf.write_text(CONF)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    image = _image(tmp_path, env)
    ctr = f"tercel-drv-{uuid.uuid4().hex[:8]}"
    try:
        run = subprocess.run(["podman", "run", "--rm", "--name", ctr, image, "/bin/sh", "-c",
                              "cp /bin/busybox /tmp/true && /tmp/true && /bin/true && cat /tmp/true /bin/busybox >/dev/null"],
                             env=env, capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            pytest.skip(f"podman cannot run containers here: {run.stderr.strip()[-300:]}")

        def is_ours(e: object) -> bool:
            if e.type == 307:  # type: ignore[attr-defined]
                # cat's read-only opens (other processes on the host may open such paths too)
                return (e.param_named("name") in ("/tmp/true", "/bin/busybox")  # type: ignore[attr-defined]
                        and e.param_named("fd") >= 0 and e.param_named("flags") & 0x7 == 1)  # type: ignore[attr-defined]
            return (e.type == 293 and e.param_named("filename") in ("/tmp/true", "/bin/true")  # type: ignore[attr-defined]
                    and b"libpod" in (e.param_raw(14) or b""))  # type: ignore[attr-defined]

        def key(e: object) -> tuple[int, str]:
            return e.type, e.param_named("filename" if e.type == 293 else "name")  # type: ignore[attr-defined]

        want = {(293, "/tmp/true"), (293, "/bin/true"), (307, "/tmp/true"), (307, "/bin/busybox")}
        evs = live.gather(is_ours, lambda got: {key(e) for e in got} >= want, timeout=20)
        dropped = next(e for e in evs if key(e) == (293, "/tmp/true"))
        lower = next(e for e in evs if key(e) == (293, "/bin/true"))
        open_upper = next(e for e in evs if key(e) == (307, "/tmp/true"))
        open_lower = next(e for e in evs if key(e) == (307, "/bin/busybox"))
        assert open_upper.param_named("flags") & PPM_FD_UPPER_LAYER
        assert open_lower.param_named("flags") & PPM_FD_LOWER_LAYER
        assert dropped.param_named("flags") & PPM_EXE_UPPER_LAYER
        assert lower.param_named("flags") & PPM_EXE_LOWER_LAYER
        assert not lower.param_named("flags") & PPM_EXE_UPPER_LAYER
        cg = dropped.param_raw(14)
        assert b"libpod" in cg, cg[:300]
        assert dropped.param_named("pid") > 0
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", ctr], env=env, capture_output=True, timeout=60)
        subprocess.run(["podman", "rmi", "-f", image], env=env, capture_output=True, timeout=60)
