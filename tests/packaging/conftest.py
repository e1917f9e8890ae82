"""Fixtures for the packaging tests: the .deb is built once per session into a temporary directory
(never into the checkout's dist/), and unpacked once with dpkg -x."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from pkg_helpers import BUILD, run, system_python_skip_reason


@pytest.fixture(scope="session")
def deb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb not installed (package dpkg): cannot build the .deb")
    out = tmp_path_factory.mktemp("dist")
    # The test's own interpreter has tercel's runtime dependencies installed: vendor urllib3 from it.
    env = dict(os.environ, TERCEL_VENDOR_PYTHON=sys.executable)
    p = run([str(BUILD), "--out", str(out)], env=env)
    if p.returncode != 0 and "was not built" in p.stderr:
        pytest.skip(f"no BPF object to package here: {p.stderr.strip().splitlines()[-1]}")
    assert p.returncode == 0, p.stderr
    deb = Path(p.stdout.strip().splitlines()[-1])
    assert deb.parent == out and deb.is_file()
    return deb


@pytest.fixture(scope="session")
def extracted(deb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    p = run(["dpkg", "-x", str(deb_path), str(root)])
    assert p.returncode == 0, p.stderr
    return root


@pytest.fixture(scope="session")
def launcher(extracted: Path) -> Path:
    reason = system_python_skip_reason()
    if reason:
        pytest.skip(reason)
    return extracted / "usr" / "bin" / "tercel"
