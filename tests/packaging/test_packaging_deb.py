"""The Debian package: control fields, conffiles and file list as dpkg-deb reports them, the unpacked
package's tercel run as users run it, a real dpkg install/reinstall/purge into a throwaway root
(maintainer scripts included, on this machine where systemd is not PID 1), and the systemd unit."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from pkg_helpers import REPO, SYSTEM_PYTHON, run

import tercel

CONFFILES = ["/etc/tercel/tercel.yaml", "/etc/tercel/tercel_rules.local.yaml", "/etc/tercel/tercel_rules.yaml"]


def fields(deb: Path) -> dict[str, str]:
    p = run(["dpkg-deb", "-f", str(deb)])
    assert p.returncode == 0, p.stderr
    out: dict[str, str] = {}
    key = ""
    for line in p.stdout.splitlines():
        if line[:1] in (" ", "\t"):
            out[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def listing(deb: Path) -> dict[str, tuple[str, str]]:
    """path -> (mode string, owner/group) from dpkg-deb -c."""
    p = run(["dpkg-deb", "-c", str(deb)])
    assert p.returncode == 0, p.stderr
    out = {}
    for line in p.stdout.splitlines():
        parts = line.split(None, 5)
        path = parts[5].split(" -> ")[0]
        out[path[1:].rstrip("/") or "/"] = (parts[0], parts[1])
    return out


# ------------------------------------------------------------------------------------------ inspection


def test_control_fields(deb_path: Path) -> None:
    f = fields(deb_path)
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    assert f["Package"] == "tercel"
    assert f["Version"] == tercel.__version__
    assert f["Architecture"] == arch
    assert deb_path.name == f"tercel_{tercel.__version__}_{arch}.deb"
    assert f["Section"] == "admin" and f["Maintainer"]
    assert int(f["Installed-Size"]) > 100
    deps = [d.strip() for d in f["Depends"].split(",")]
    assert "python3 (>= 3.11)" in deps and "libbpf1" in deps
    # python3-yaml's range is pyproject's PyYAML range; urllib3 is vendored, never a Debian dependency
    # (bookworm's python3-urllib3 is 1.26, below pyproject's >=2.2).
    spec = next(d for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
                if d.lower().startswith("pyyaml"))
    lo, hi = re.findall(r"[\d.]+", spec)[:2]
    assert f"python3-yaml (>= {lo})" in deps and f"python3-yaml (<< {hi})" in deps
    assert not any("urllib3" in d for d in deps)
    assert "journalctl -fu tercel" in f["Description"]


def test_control_archive_and_conffiles(deb_path: Path, tmp_path: Path) -> None:
    p = run(["dpkg-deb", "-e", str(deb_path), str(tmp_path / "DEBIAN")])
    assert p.returncode == 0, p.stderr
    ctl = tmp_path / "DEBIAN"
    assert sorted((ctl / "conffiles").read_text().split()) == CONFFILES
    for script in ("postinst", "prerm", "postrm"):
        mode = (ctl / script).stat().st_mode
        assert mode & stat.S_IXUSR, f"{script} not executable"
        assert run(["sh", "-n", str(ctl / script)]).returncode == 0, f"{script}: shell syntax error"
    # md5sums covers every regular file of the data archive
    listed = {line.split(None, 1)[1] for line in (ctl / "md5sums").read_text().splitlines()}
    files = {path[1:] for path, (mode, _) in listing(deb_path).items() if mode.startswith("-")}
    assert listed == files


def test_file_list(deb_path: Path) -> None:
    files = listing(deb_path)
    assert all(owner == "root/root" for _, owner in files.values())
    assert files["/usr/bin/tercel"][0] == "-rwxr-xr-x"
    assert files["/lib/systemd/system/tercel.service"][0] == "-rw-r--r--"
    for path in [*CONFFILES, "/etc/tercel/rules.d", "/etc/tercel/config.d",
                 "/usr/lib/tercel/tercel/__init__.py", "/usr/lib/tercel/tercel/app/cli.py",
                 "/usr/lib/tercel/tercel/data/tercel.yaml", "/usr/lib/tercel/tercel/data/tercel_rules.yaml",
                 "/usr/lib/tercel/tercel/driver/bpf/tercel.bpf.o", "/usr/lib/tercel/tercel/driver/bpf/tercel.bpf.c",
                 "/usr/lib/tercel/urllib3/__init__.py", "/usr/share/doc/tercel/copyright"]:
        assert path in files, f"{path} missing from the package"
    assert files["/etc/tercel/rules.d"][0].startswith("d")
    assert any(re.fullmatch(r"/usr/lib/tercel/urllib3-[\d.]+\.dist-info/licenses/LICENSE\.txt", p) for p in files)
    # no caches or build inputs: byte code is made by postinst, vmlinux.h belongs to the build machine
    assert not [p for p in files if "__pycache__" in p or p.endswith((".pyc", "vmlinux.h", ".tmp"))]
    # every module of the source tree is shipped
    src = REPO / "src"
    for py in (src / "tercel").rglob("*.py"):
        assert "/usr/lib/tercel/" + str(py.relative_to(src)) in files


# ------------------------------------------------------------------------------- the unpacked package


def test_launcher_runs_the_packaged_code(launcher: Path, extracted: Path) -> None:
    p = run([str(launcher), "--version"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"Tercel version: {tercel.__version__}\n")
    # the modules come from the package's private directory, PyYAML from Debian's python3-yaml
    lib = extracted / "usr" / "lib" / "tercel"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import tercel, urllib3, yaml, tercel.driver.loader as l; "
            "print(tercel.__file__); print(urllib3.__file__); print(yaml.__file__); print(l.DEFAULT_OBJECT)")
    p = run([SYSTEM_PYTHON, "-I", "-c", code, str(lib)])
    assert p.returncode == 0, p.stderr
    tercel_file, urllib3_file, yaml_file, bpf_obj = p.stdout.split()
    assert tercel_file.startswith(str(lib)) and urllib3_file.startswith(str(lib))
    assert yaml_file.startswith("/usr/lib/python3/")
    assert Path(bpf_obj) == lib / "tercel" / "driver" / "bpf" / "tercel.bpf.o" and Path(bpf_obj).is_file()


def test_validate_packaged_rules(launcher: Path, extracted: Path) -> None:
    etc = extracted / "etc" / "tercel"
    for rules in ("tercel_rules.yaml", "tercel_rules.local.yaml"):
        p = run([str(launcher), "-c", str(etc / "tercel.yaml"), "-V", str(etc / rules)])
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout == f"{etc / rules}: Ok\n"


def test_official_rules_validate_on_debians_python(launcher: Path, extracted: Path) -> None:
    """Debian's python3-yaml (not the virtualenv's PyYAML) parses Falco's official rules unmodified."""
    official = REPO / ".." / "shared" / "rules" / "falcosecurity"
    if not official.is_dir():
        pytest.skip(f"{official} missing: the official Falco rules are not available here")
    files = sorted(official.glob("*.yaml"))
    args = [a for f in files for a in ("-V", str(f))]
    p = run([str(launcher), "-c", str(extracted / "etc/tercel/tercel.yaml"), *args])
    assert p.returncode == 0, p.stdout + p.stderr
    for f in files:
        assert f"{f}: Ok" in p.stdout


def test_packaged_config_loads_the_packaged_rules(launcher: Path, extracted: Path) -> None:
    etc = extracted / "etc" / "tercel"
    p = run([str(launcher), "-c", str(etc / "tercel.yaml"), "-o", "json_output=true", "-L"])
    assert p.returncode == 0, p.stderr
    assert f"{etc / 'tercel_rules.yaml'}" in p.stderr  # "Loading rules from:" names the /etc copy
    names = {r["info"]["name"] for r in yaml.safe_load(p.stdout)["rules"]}
    assert "Terminal shell in container" in names
    p = run([str(launcher), "-c", str(etc / "tercel.yaml"), "--dry-run", "-o", "engine.kind=nodriver"])
    assert p.returncode == 0, p.stderr


def test_etc_config_is_the_builtin_one(extracted: Path) -> None:
    """Same keys and values as the built-in config (only the header comment differs): they cannot drift."""
    etc = yaml.safe_load((extracted / "etc/tercel/tercel.yaml").read_text())
    builtin = yaml.safe_load((REPO / "src/tercel/data/tercel.yaml").read_text())
    assert etc == builtin
    assert (extracted / "etc/tercel/tercel_rules.yaml").read_bytes() == \
        (REPO / "src/tercel/data/tercel_rules.yaml").read_bytes()
    assert yaml.safe_load((extracted / "etc/tercel/tercel_rules.local.yaml").read_text()) is None


# ------------------------------------------------------------------ dpkg install into a throwaway root


def _dpkg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # chrootless scripts get DPKG_ROOT=root; nothing outside root is written (the log goes inside too)
    return run(["dpkg", f"--root={root}", f"--log={root}/var/log/dpkg.log", "--force-depends",
                "--force-script-chrootless", *args])


def test_dpkg_install_reinstall_purge(deb_path: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("dpkg -i needs root (even into a throwaway --root)")
    root = tmp_path / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log"):
        (root / d).mkdir(parents=True)
    for f in ("status", "available"):
        (root / "var/lib/dpkg" / f).touch()
    before = {p for p in Path("/etc/systemd/system").rglob("tercel*")} if Path("/etc/systemd/system").exists() else set()

    p = _dpkg(root, "-i", str(deb_path))
    assert p.returncode == 0, p.stdout + p.stderr
    assert (root / "usr/bin/tercel").is_file() and (root / "etc/tercel/tercel.yaml").is_file()
    assert list((root / "usr/lib/tercel/tercel").rglob("*.pyc")), "postinst did not byte-compile"
    helper = shutil.which("deb-systemd-helper")
    wants = root / "etc/systemd/system/multi-user.target.wants/tercel.service"
    if helper:  # enabled in the root, not started (no systemd as PID 1 / DPKG_ROOT set)
        assert wants.is_symlink() and os.readlink(wants) == "/lib/systemd/system/tercel.service"

    # a reinstall (upgrade path: postinst configure <old-version>) keeps the admin's edits
    local = root / "etc/tercel/tercel_rules.local.yaml"
    local.write_text(local.read_text() + "- list: mine\n  items: [x]\n")
    p = _dpkg(root, "-i", str(deb_path))
    assert p.returncode == 0, p.stdout + p.stderr
    assert local.read_text().endswith("items: [x]\n")

    p = _dpkg(root, "--purge", "tercel")
    assert p.returncode == 0, p.stdout + p.stderr
    left = sorted(str(q.relative_to(root)) for q in root.rglob("*")
                  if not str(q.relative_to(root)).startswith(("var/lib/dpkg", "var/log")) and not q.is_dir())
    assert left == [], f"left behind after purge: {left}"
    assert not (root / "usr/lib/tercel").exists() and not (root / "etc/tercel").exists()
    after = {p for p in Path("/etc/systemd/system").rglob("tercel*")} if Path("/etc/systemd/system").exists() else set()
    assert after == before, "the host's systemd configuration was touched"


# -------------------------------------------------------------------------------------- systemd unit


UNIT = REPO / "packaging" / "tercel.service"


def unit_settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def test_unit_settings() -> None:
    s = unit_settings()
    assert s["ExecStart"] == ["/usr/bin/tercel -c /etc/tercel/tercel.yaml"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["Restart"] == ["on-failure"] and s["User"] == ["root"]
    assert s["StandardOutput"] == ["journal"] and s["SyslogIdentifier"] == ["tercel"]
    caps = set(s["CapabilityBoundingSet"][0].split())
    assert {"CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_SYS_RESOURCE"} == caps
    assert "ProtectProc" not in s and "ProcSubset" not in s  # tercel must see every process
    assert s["WantedBy"] == ["multi-user.target"]


def test_systemd_analyze_verify(extracted: Path, tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed (package systemd): unit not verified")
    # Verified as shipped, with ExecStart pointing at the unpacked launcher (verify checks it exists).
    unit = tmp_path / "tercel.service"
    unit.write_text((extracted / "lib/systemd/system/tercel.service").read_text()
                    .replace("/usr/bin/tercel", str(extracted / "usr/bin/tercel")))
    p = run(["systemd-analyze", "verify", str(unit)])
    problems = [line for line in (p.stdout + p.stderr).splitlines() if "tercel.service" in line]
    assert p.returncode == 0 and not problems, p.stdout + p.stderr
    p = run(["systemd-analyze", "security", "--offline=true", str(unit)])
    m = re.search(r"Overall exposure level for tercel.service: ([\d.]+)", p.stdout)
    assert m, p.stdout + p.stderr
    assert float(m.group(1)) <= 5.0, p.stdout  # "OK" band: the hardening above is in effect


_CAP_NUMBERS = {"CAP_DAC_READ_SEARCH": 2, "CAP_SYS_PTRACE": 19, "CAP_SYS_RESOURCE": 24, "CAP_PERFMON": 38,
                "CAP_BPF": 39, "CAP_SYS_ADMIN": 21}


@pytest.mark.live
def test_driver_runs_with_the_units_capabilities(launcher: Path, extracted: Path, tmp_path: Path) -> None:
    """The packaged tercel loads its (stripped) BPF object and alerts with only the unit's capability
    bounding set: CAP_SYS_ADMIN is not needed."""
    from tercel.driver.errors import DriverError
    from tercel.driver.loader import preflight

    try:
        preflight()
    except DriverError as exc:
        pytest.skip(f"live capture unavailable here: {exc}")
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) missing: cannot restrict capabilities")
    if not Path("/etc/shadow").is_file():
        pytest.skip("no /etc/shadow to read: the rule this test triggers watches it")
    have = int(next(line for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("CapBnd:")).split()[1], 16)
    wanted = unit_settings()["CapabilityBoundingSet"][0].split()
    kept = [c for c in wanted if have >> _CAP_NUMBERS[c] & 1]  # this sandbox may lack some already
    spec = "-all," + ",".join("+" + c[4:].lower() for c in kept)
    etc = extracted / "etc/tercel"
    proc = subprocess.Popen(
        ["setpriv", "--inh-caps=-all", f"--bounding-set={spec}", "--", str(launcher), "-c", str(etc / "tercel.yaml"),
         "-M", "5", "-o", "json_output=true", "-o", "log_level=info"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        bnd = -1
        deadline = time.monotonic() + 20
        status = Path(f"/proc/{proc.pid}/status")
        while time.monotonic() < deadline and proc.poll() is None:  # wait for the driver to be attached
            try:
                bnd = int(next(x for x in status.read_text().splitlines() if x.startswith("CapBnd:")).split()[1], 16)
            except (OSError, StopIteration):
                bnd = -1
            if bnd != -1 and not bnd >> _CAP_NUMBERS["CAP_SYS_ADMIN"] & 1 and _opened_driver(proc.pid):
                break
            time.sleep(0.1)
        assert bnd != -1 and not bnd >> _CAP_NUMBERS["CAP_SYS_ADMIN"] & 1
        time.sleep(0.5)
        subprocess.run(["cat", "/etc/shadow"], stdout=subprocess.DEVNULL, check=True)  # read by an untrusted program
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    alerts = [yaml.safe_load(line) for line in out.splitlines() if line.startswith("{")]
    assert any(a["rule"] == "Read sensitive file untrusted" and a["output_fields"]["fd.name"] == "/etc/shadow"
               for a in alerts), out + err


def _opened_driver(pid: int) -> bool:
    """True once the process holds a BPF link (the programs are attached)."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf_link":
                    return True
            except OSError:
                continue
    except OSError:
        pass
    return False
