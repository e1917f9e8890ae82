"""Differential test: tercel's field values against ``sysdig -r`` (libsinsp of March 2022), event by
event, on the shared captures and on a capture tercel writes itself (a process tree doing file,
socket, pipe, credential and directory work in the 2022 enter+exit form).

Every difference must be listed in DELIBERATE with its reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tercel.fields import registry
from tercel.fields.catalog import PADDED_FIELDS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))
from state_scenario import write_scenario

from shared_data import SHARED

CAPTURES = SHARED / "data" / "captures"

FIELDS = [
    # evt
    "evt.num", "evt.type", "evt.dir", "evt.res", "evt.rawres", "evt.args", "evt.info", "evt.cpu",
    "evt.arg.fd", "evt.arg.name", "evt.arg.flags", "evt.arg.res", "evt.arg[0]", "evt.arg[1]",
    "evt.is_open_read", "evt.is_open_write", "evt.is_open_exec", "evt.is_io", "evt.is_io_read",
    "evt.is_io_write", "evt.io_dir", "evt.is_wait", "evt.is_syslog", "evt.failed", "evt.category",
    "evt.count", "evt.count.error", "evt.count.exit", "evt.count.error.file",
    "evt.count.error.net", "evt.count.error.memory", "evt.count.error.other", "evt.buflen",
    "evt.buffer", "evt.time", "evt.time.s", "evt.time.iso8601", "evt.datetime", "evt.datetime.s",
    "evt.rawtime", "evt.rawtime.s", "evt.rawtime.ns", "evt.reltime", "evt.reltime.s",
    "evt.reltime.ns", "evt.latency", "evt.latency.s", "evt.latency.ns", "evt.deltatime",
    "evt.deltatime.s", "evt.deltatime.ns", "evt.abspath", "syscall.type",
    # process / thread
    "proc.name", "proc.exe", "proc.exepath", "proc.cmdline", "proc.exeline", "proc.args",
    "proc.pid", "proc.ppid", "proc.pname", "proc.pcmdline", "proc.aname[1]", "proc.aname[2]",
    "proc.aname[3]", "proc.apid[1]", "proc.apid[2]", "proc.sname", "proc.sid", "proc.vpgid",
    "proc.tty", "proc.cwd", "proc.vpid", "proc.env", "proc.loginshellid", "proc.duration",
    "proc.nthreads", "proc.nchilds", "proc.vmsize", "proc.vmrss", "proc.vmswap", "proc.fdlimit",
    "proc.fdusage", "proc.fdopencount", "thread.tid", "thread.vtid", "thread.ismain",
    "thread.pfmajor", "thread.pfminor", "thread.cgroups", "thread.cgroup.cpuset",
    "thread.vmsize", "thread.vmrss", "container.id",
    # user / group
    "user.name", "user.uid", "user.loginuid", "user.loginname", "user.homedir", "user.shell",
    "group.name", "group.gid",
    # fd
    "fd.num", "fd.type", "fd.typechar", "fd.name", "fd.directory", "fd.filename", "fd.sip",
    "fd.cip", "fd.lip", "fd.rip", "fd.sport", "fd.cport", "fd.lport", "fd.rport", "fd.l4proto",
    "fd.sockfamily", "fd.is_server", "fd.connected", "fd.name_changed", "fd.uid",
    "fd.containername", "fd.containerdirectory", "fdlist.nums", "fd.sproto", "fd.cproto",
    "fd.lproto", "fd.rproto",
]
PADDED = PADDED_FIELDS  # libsinsp prints these with PF_10_PADDED_DEC
SEP = "\t\x01\t"
IPV6_LOCALITY = {"fd.sip", "fd.rip", "fd.lip", "fd.lport", "fd.rport", "fd.is_server", "fd.lproto",
                 "fd.rproto"}


def _ipv6_fd(evt: Any) -> bool:
    return evt.fdinfo is not None and evt.fdinfo.typechar == "6"


_UIDS = ("setuid", "setgid", "setresuid", "setresgid")

# field -> (predicate on (event, sysdig text, tercel text) telling the difference is this one, reason)
DELIBERATE: dict[str, tuple[Callable[[Any, str, str], bool], str]] = {
    "evt.category": (lambda evt, s, t: evt.type <= 1,
                     "generic events: libsinsp takes the category from its per-syscall table, "
                     "which tercel's event table does not carry (they print 'other')"),
    "fd.connected": (lambda evt, s, t: evt.fdinfo is not None and evt.fdinfo.l4proto == 3 and
                     not evt.fdinfo.connected,
                     "current Falco counts only connect()/accept() as connected; 2022 also a UDP "
                     "socket that sent or received (the stable rule 'Disallowed SSH Connection Non "
                     "Standard Port' relies on fd.connected=false after sendto)"),
    "proc.nchilds": (lambda evt, s, t: True,
                     "current Falco counts the process's non-leader threads; 2022 counted child "
                     "processes"),
    "group.gid": (lambda evt, s, t: int(s) > 0xFFFFFFFF,
                  "sysdig 0.29 stores the gid of threads created by clone in a 64-bit slot and "
                  "prints garbage above 2^32; tercel prints the gid"),
    "evt.args": (lambda evt, s, t: evt.name in _UIDS or s == t + " ",
                 "sysdig 0.29 ends the list with a blank, current Falco does not (tercel follows "
                 "Falco); user/group names of uid/gid parameters (uid=0(root)) are not resolved by "
                 "tercel.state.render yet"),
    "evt.info": (lambda evt, s, t: evt.name in _UIDS or s == t + " ", "as evt.args"),
    "evt.arg[0]": (lambda evt, s, t: evt.name in _UIDS, "as evt.args"),
    "evt.arg[1]": (lambda evt, s, t: evt.name in _UIDS, "as evt.args"),
}
for _f in IPV6_LOCALITY:
    DELIBERATE[_f] = (lambda evt, s, t: _ipv6_fd(evt),
                      "sysdig 0.29 does not count ::1 as a local address and then swaps the "
                      "client/server ends of IPv6 tuples; tercel treats ::1 as loopback")


def text(field: str, v: Any) -> str:
    """A value as sysdig prints it."""
    if v is None:
        return "<NA>"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return f"{v:.1f}"
    if isinstance(v, bytes):
        return "".join(chr(c) if 32 <= c < 127 else "." for c in v)
    if field in PADDED and isinstance(v, int):
        return f"{v:09d}"
    return str(v)


def _extractor(field: str) -> Callable[[Any], Any]:
    if "[" in field:
        name, _, arg = field.partition("[")
        found = registry.resolve(name)
        assert found is not None, field
        return registry.make_extractor(found[0], arg.rstrip("]"))
    found = registry.resolve(field)
    assert found is not None, field
    return registry.make_extractor(found[0], found[1])


def sysdig_lines(path: Path, fields: list[str]) -> dict[int, list[str]]:
    fmt = "*" + SEP.join("%" + f for f in fields)
    env = {**os.environ, "TZ": "UTC"}
    out = subprocess.run(["sysdig", "-r", str(path), "-p", fmt], capture_output=True, env=env,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    lines: dict[int, list[str]] = {}
    for line in out.stdout.decode("utf-8", "replace").split("\n"):
        parts = line.split(SEP)
        if len(parts) == len(fields) and parts[0].isdigit():
            lines[int(parts[0])] = parts
    return lines


def diff_capture(path: Path) -> tuple[int, list[str]]:
    from tercel.capture.scap_reader import ScapReader
    from tercel.state.inspector import Inspector

    fields = FIELDS
    expected = sysdig_lines(path, fields)
    extractors = [_extractor(f) for f in fields]
    problems: list[str] = []
    compared = 0
    with ScapReader(path) as reader:
        insp = Inspector(reader.initial)
        for buf, off, cpu, flags in reader:
            evt = insp.process(buf, off, cpu, flags)
            row = expected.get(evt.num)
            if row is None:
                continue  # sysdig hides some events (procinfo)
            compared += 1
            for field, want, ext in zip(fields, row, extractors, strict=True):
                got = text(field, ext(evt))
                if got == want:
                    continue
                known = DELIBERATE.get(field)
                if known is not None and known[0](evt, want, got):
                    continue
                problems.append(f"{path.name} #{evt.num} {evt.name}{evt.direction} {field}: "
                                f"sysdig={want!r} tercel={got!r}")
    assert compared == len(expected), "sysdig printed events tercel did not produce"
    return compared, problems


@pytest.fixture(autouse=True)
def _utc() -> Any:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def _need_sysdig() -> None:
    if shutil.which("sysdig") is None:
        pytest.skip("sysdig is not installed (apt-get install sysdig)")


def test_field_list_is_large_enough() -> None:
    assert len(FIELDS) >= 60
    for f in FIELDS:
        _extractor(f)


@pytest.mark.parametrize("name", ["cat_write", "connect_localhost", "empty"])
def test_shared_capture(name: str) -> None:
    _need_sysdig()
    path = CAPTURES / f"{name}.scap"
    if not path.exists():
        pytest.skip(f"{path} is missing (../shared not present)")
    compared, problems = diff_capture(path)
    assert not problems, "\n".join(problems[:40])
    if name != "empty":
        assert compared > 0


def test_capture_written_by_tercel(tmp_path: Path) -> None:
    _need_sysdig()
    path = write_scenario(tmp_path / "scenario.scap")
    compared, problems = diff_capture(path)
    assert compared > 80
    assert not problems, "\n".join(problems[:40])


def test_tercel_rewrite_of_shared_capture(tmp_path: Path) -> None:
    """cat_write read and written back by tercel: sysdig and tercel still agree on every field."""
    _need_sysdig()
    src = CAPTURES / "cat_write.scap"
    if not src.exists():
        pytest.skip(f"{src} is missing (../shared not present)")
    from tercel.capture.scap_reader import ScapReader
    from tercel.capture.scap_writer import ScapWriter

    out = tmp_path / "rewritten.scap"
    with ScapReader(src) as reader, ScapWriter(out, initial=reader.initial) as writer:
        for buf, off, cpu, flags in reader:
            writer.write_event(buf, off, cpu, flags)
    compared, problems = diff_capture(out)
    assert compared > 0
    assert not problems, "\n".join(problems[:40])
