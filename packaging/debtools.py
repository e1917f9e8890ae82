"""Helpers for build-deb.sh (run by a Python that has tercel's runtime dependencies installed).

    debtools.py version SRC_DIR                    tercel's version (from tercel/__init__.py)
    debtools.py vendor PYPROJECT DEST NAME...      copy installed distributions NAME into DEST,
                                                   after checking each against pyproject's range
    debtools.py etc-config BUILTIN DEST            /etc/tercel/tercel.yaml from the built-in config
    debtools.py depends PYPROJECT NAME=DEBPKG...   Debian relations for pyproject's range of NAME

Pure standard library: runs with Debian's python3 as well as with the project's virtualenv."""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import sys
import tomllib
from pathlib import Path

ETC_HEADER = """\
# /etc/tercel/tercel.yaml: tercel's configuration (installed by the tercel package, kept on upgrade).
# Same keys and meaning as Falco's falco.yaml. Relative paths are relative to this directory.
# After a change: systemctl reload tercel (SIGHUP: a broken new version keeps the old one running).
# Values may use ${VAR} (environment) expansion; "$${VAR}" is a literal "${VAR}".
# Drop-in files in /etc/tercel/config.d/ are loaded after this one; rules in /etc/tercel/rules.d/.
"""


class ToolError(Exception):
    pass


def _version_key(v: str) -> tuple[int, ...]:
    """Numeric release part only ("2.8.0" -> (2, 8, 0)); pre-releases compare as their release."""
    m = re.match(r"\d+(?:\.\d+)*", v)
    if not m:
        raise ToolError(f"cannot compare version {v!r}")
    parts = [int(x) for x in m.group(0).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


_OPS = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def requirement(pyproject: Path, name: str) -> list[tuple[str, str]]:
    """The (operator, version) clauses of `name` in [project].dependencies."""
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    for dep in deps:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", dep)
        if m and m.group(1).lower() == name.lower():
            clauses = []
            for c in filter(None, (x.strip() for x in m.group(2).split(";")[0].split(","))):
                cm = re.match(r"(>=|<=|==|!=|<|>)\s*([0-9][0-9A-Za-z.]*)$", c)
                if not cm:
                    raise ToolError(f"{pyproject}: unsupported version clause {c!r} for {name}")
                clauses.append((cm.group(1), cm.group(2)))
            return clauses
    raise ToolError(f"{pyproject}: {name} is not a runtime dependency")


def satisfies(version: str, clauses: list[tuple[str, str]]) -> bool:
    return all(_OPS[op](_version_key(version), _version_key(v)) for op, v in clauses)


def vendor(pyproject: Path, dest: Path, names: list[str]) -> None:
    for name in names:
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            raise ToolError(f"{name} is not installed for {sys.executable}: cannot vendor it") from None
        clauses = requirement(pyproject, name)
        if not satisfies(dist.version, clauses):
            raise ToolError(f"{name} {dist.version} (from {sys.executable}) is outside pyproject's range "
                            + ",".join(op + v for op, v in clauses))
        files = dist.files or []
        if any(str(f).endswith((".so", ".pyd")) for f in files):
            raise ToolError(f"{name} has compiled extensions: only pure-Python distributions are vendored")
        copied = 0
        for f in files:
            rel = str(f)
            if rel.startswith("..") or "__pycache__" in rel or rel.endswith((".pyc", "/INSTALLER", "/RECORD")):
                continue  # scripts outside site-packages, caches, installer bookkeeping
            src = Path(str(f.locate()))
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            copied += 1
        print(f"vendored {name} {dist.version} ({copied} files)")


def etc_config(builtin: Path, dest: Path) -> None:
    """The built-in config with its own header replaced: same keys, same values, so that the packaged
    /etc file and the built-in one never drift apart (its relative `tercel_rules.yaml` then means
    /etc/tercel/tercel_rules.yaml, installed beside it)."""
    lines = builtin.read_text().splitlines(keepends=True)
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    if i == 0:
        raise ToolError(f"{builtin}: expected a leading comment block")
    dest.write_text(ETC_HEADER + "".join(lines[i:]))


def depends(pyproject: Path, pairs: list[str]) -> None:
    rel = []
    for pair in pairs:
        name, deb = pair.split("=", 1)
        for op, v in requirement(pyproject, name):
            debop = {">=": ">=", "<=": "<=", "==": "=", "<": "<<", ">": ">>"}.get(op)
            if debop is None:
                raise ToolError(f"cannot express {name}{op}{v} as a Debian relation")
            rel.append(f"{deb} ({debop} {v})")
    print(", ".join(rel))


def main(argv: list[str]) -> int:
    try:
        cmd, *args = argv
        if cmd == "version":
            text = (Path(args[0]) / "tercel" / "__init__.py").read_text()
            m = re.search(r'^__version__ = "([^"]+)"', text, re.M)
            if not m:
                raise ToolError("no __version__ in tercel/__init__.py")
            print(m.group(1))
        elif cmd == "vendor":
            vendor(Path(args[0]), Path(args[1]), args[2:])
        elif cmd == "etc-config":
            etc_config(Path(args[0]), Path(args[1]))
        elif cmd == "depends":
            depends(Path(args[0]), args[1:])
        else:
            raise ToolError(f"unknown command {cmd}")
    except (ToolError, OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"debtools: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
