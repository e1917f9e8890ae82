"""The generated PPME event table against sysdig 0.29's own listing and the reference's facts."""

from __future__ import annotations

import re
import subprocess

import pytest

from shared_data import need_sysdig
from tercel.state import eventtable as et

TYPE_NAMES = {v: k[3:] for k, v in vars(et).items() if k.startswith("PT_") and isinstance(v, int)}
TYPE_NAMES[et.PT_DYN] = "DYNAMIC"  # sysdig -L spelling


def test_sizes_and_known_codes():
    assert len(et.TABLE) == et.PPM_EVENT_MAX == 454
    assert et.info(293).name == "execve" and et.info(293).is_exit and et.info(293).direction == "<"
    assert et.info(292).direction == ">"
    assert len(et.info(293).params) == 31 and et.info(293).nparams_2022 == 20
    assert [p.name for p in et.info(223).params][-1] == "pidns_init_start_ts"
    assert et.info(186).name == "procexit" and et.info(186).is_meta
    assert et.info(5).params[1].name == "fd"  # newest close_X carries the fd
    assert et.info(402).large_payload and et.info(324).large_payload and not et.info(3).large_payload
    assert et.info(4).old_version is False and et.info(12).old_version is True


def test_newest_only_codes_match_reference_numbers():
    expect = {353: "capset", 354: "useradded", 358: "groupadded", 363: "dup2", 365: "dup3", 367: "dup",
              369: "bpf", 387: "umount", 389: "accept4", 391: "umount2", 393: "pipe2", 401: "prctl",
              402: "asyncevent", 405: "memfd_create", 411: "init_module", 413: "finit_module",
              427: "setreuid", 429: "setregid", 451: "close_range"}
    assert {c: et.info(c).name for c in expect} == expect
    assert [p.name for p in et.info(401).params] == ["res", "option", "arg2_str", "arg2_int"]


def test_syscall_marking():
    assert et.info(292).is_syscall and et.info(293).is_syscall and et.info(0).is_syscall
    assert et.info(2).is_syscall and et.info(400).is_syscall
    for meta in (186, 234, 272, 324, 322, 402, 354, 148, 152, 232, 268, 431, 196):
        assert not et.info(meta).is_syscall, meta


def test_unknown_codes_are_generic():
    for code in (448, 452, 500, 65535):
        i = et.info(code)
        assert not i.known and i.params == () and i.name == "NA"


def test_aliases_for_renamed_parameters():
    i = et.info(293)
    assert i.index_by_name["pgid"] == 17 == i.index_by_name["vpgid"]
    assert i.index_by_name["filename"] == 30


def test_codes_for_name():
    assert set(et.codes_for_name("execve")) >= {293, 231, 283, 289, 13}
    assert all(c & 1 for c in et.codes_for_name("execve"))
    assert set(et.codes_for_name("procexit")) == {16, 186}  # PROCEXIT_E (old) and PROCEXIT_1_E
    assert et.GENERIC_X not in et.codes_for_name("execve")
    assert et.codes_for_name("arch_prctl") == (et.GENERIC_X,)
    assert set(et.codes_for_name("openat")) >= {307, 103}
    assert set(et.codes_for_name("container")) >= {272, 324}
    assert et.GENERIC_X in et.codes_for_name("prctl") and 401 in et.codes_for_name("prctl")
    assert et.codes_for_name("no_such_event") == ()
    assert "execve" in et.EVENT_NAMES and "NA1" not in et.EVENT_NAMES
    assert "mprotect" in et.ALL_TYPE_NAMES and "arch_prctl" in et.SYSCALL_NAME_SET


def test_syscall_names_for_generic_events():
    # scap-format section 3.3: ID 75 -> mprotect, 296 -> arch_prctl, 106 -> prctl
    assert [et.syscall_name(i) for i in (75, 296, 106, 17, 342)] == ["mprotect", "arch_prctl", "prctl", "mount",
                                                                     "memfd_create"]
    assert et.syscall_name(0) == "<unknown>" and et.syscall_name(9999) == "<unknown>"


def test_flag_tables_present():
    names = [n for n, _ in et.flag_table("file_flags") or ()]
    assert "O_RDONLY" in names and "O_CLOEXEC" in names
    assert et.info(3).params[2].flag_table is not None


def test_table_matches_sysdig_listing():
    """Every event `sysdig -L` lists exists here with the same direction, name and parameters."""
    out = subprocess.run([need_sysdig(), "-L"], capture_output=True, text=True, timeout=60).stdout
    listed = re.findall(r"^([<>]) (\w+)\((.*)\)$", out, re.M)
    assert len(listed) > 200
    by_key: dict[tuple[str, str], list[tuple[tuple[str, str], ...]]] = {}
    for e in et.TABLE:
        if e.known and e.nparams_2022 >= 0:
            sig = tuple((TYPE_NAMES[p.type], p.name) for p in e.params[: e.nparams_2022])
            by_key.setdefault((e.direction, e.name), []).append(sig)
    for d, name, params in listed:
        sig = tuple(tuple(p.strip().split(" ", 1)) for p in params.split(",")) if params else ()
        sig = tuple((t, n) for t, n in sig)
        assert sig in by_key.get((d, name), []), (d, name, params)


@pytest.mark.parametrize("code", range(0, 336))
def test_2022_widths_kept_in_merged_table(code):
    i = et.info(code)
    assert i.known and i.nparams_2022 <= len(i.params)
