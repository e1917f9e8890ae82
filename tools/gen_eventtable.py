#!/usr/bin/env python3
"""Generate tercel's PPME event-table data modules.

Inputs (facts, not code):
- the 2022 table as compiled into Debian's libscap (falcosecurity/libs e5c53d64, the one sysdig 0.29.3
  uses): ``g_event_info``, the flag tables and ``g_syscall_info_table`` are read from the shared
  library's data with ctypes (``apt-get install libfalcosecurity0 libfalcosecurity0-dev``);
- ``tools/eventtable_newest.txt``: the newest table's parameter lists, transcribed by hand;
- ``tools/eventtable_newest_flags.txt``: flag tables the newest libs added or extended.

Outputs:
- ``src/tercel/state/eventtable_data.py``: every code 0..PPM_EVENT_MAX-1 with name, category, flags and
  parameters (2022 layout for the parameters sysdig 0.29 knows, newest layout for those appended since);
- ``src/tercel/capture/ppme_layout.py``: the little the capture layer needs (2022 parameter counts for
  rebuilding v1 headers, the large-payload codes).

Usage: .venv/bin/python tools/gen_eventtable.py [--lib PATH]
"""

from __future__ import annotations

import argparse
import ctypes
import pprint
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEWEST_TXT = ROOT / "tools" / "eventtable_newest.txt"
NEWEST_FLAGS_TXT = ROOT / "tools" / "eventtable_newest_flags.txt"
OUT_DATA = ROOT / "src" / "tercel" / "state" / "eventtable_data.py"
OUT_LAYOUT = ROOT / "src" / "tercel" / "capture" / "ppme_layout.py"

EVENT_MAX_2022 = 336
EVENT_MAX_NEWEST = 454
SC_MAX_2022 = 329

PT = {
    "NONE": 0, "INT8": 1, "INT16": 2, "INT32": 3, "INT64": 4, "UINT8": 5, "UINT16": 6, "UINT32": 7,
    "UINT64": 8, "CHARBUF": 9, "BYTEBUF": 10, "ERRNO": 11, "SOCKADDR": 12, "SOCKTUPLE": 13, "FD": 14,
    "PID": 15, "FDLIST": 16, "FSPATH": 17, "SYSCALLID": 18, "SIGTYPE": 19, "RELTIME": 20, "ABSTIME": 21,
    "PORT": 22, "L4PROTO": 23, "SOCKFAMILY": 24, "BOOL": 25, "IPV4ADDR": 26, "DYN": 27, "FLAGS8": 28,
    "FLAGS16": 29, "FLAGS32": 30, "UID": 31, "GID": 32, "DOUBLE": 33, "SIGSET": 34, "CHARBUFARRAY": 35,
    "CHARBUF_PAIR_ARRAY": 36, "IPV4NET": 37, "IPV6ADDR": 38, "IPV6NET": 39, "IPADDR": 40, "IPNET": 41,
    "MODE": 42, "FSRELPATH": 43, "ENUMFLAGS8": 44, "ENUMFLAGS16": 45, "ENUMFLAGS32": 46, "FD32": 47,
    "PID32": 48,
}
PF = {"NA": 0, "DEC": 1, "HEX": 2, "10_PADDED_DEC": 3, "ID": 4, "DIR": 5, "OCT": 6}
EC = {
    "UNKNOWN": 0, "OTHER": 1, "FILE": 2, "NET": 3, "IPC": 4, "MEMORY": 5, "PROCESS": 6, "SLEEP": 7,
    "SYSTEM": 8, "SIGNAL": 9, "USER": 10, "TIME": 11, "PROCESSING": 12, "IO_READ": 32, "IO_WRITE": 33,
    "IO_OTHER": 34, "WAIT": 64, "SCHEDULER": 128, "INTERNAL": 256,
    # newest-only "event class" bits are dropped: the 2022 category numbering is kept
    "SYSCALL": 0, "TRACEPOINT": 0, "PLUGIN": 0, "METAEVENT": 0, "ITER": 0,
}
EF = {
    "NONE": 0, "CREATES_FD": 1, "DESTROYS_FD": 2, "USES_FD": 4, "READS_FROM_FD": 8, "WRITES_TO_FD": 16,
    "MODIFIES_STATE": 32, "UNUSED": 64, "WAITS": 128, "SKIPPARSERESET": 256, "OLD_VERSION": 512,
    "DROP_SIMPLE_CONS": 1024, "LARGE_PAYLOAD": 2048, "CONVERTER_MANAGED": 4096,
}
FLAG_TYPES = {28, 29, 30, 42, 44, 45, 46}


class ParamInfo(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("name", ctypes.c_char * 32), ("type", ctypes.c_uint32), ("fmt", ctypes.c_uint32),
                ("info", ctypes.c_void_p), ("ninfo", ctypes.c_uint8)]


class EventInfo(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("name", ctypes.c_char * 32), ("category", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("nparams", ctypes.c_uint32), ("params", ParamInfo * 32)]


class NameValue(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_uint32)]


class SyscallDesc(ctypes.Structure):
    _fields_ = [("category", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("name", ctypes.c_char_p)]


def read_2022(lib_path: str):
    lib = ctypes.CDLL(lib_path)
    table = (EventInfo * EVENT_MAX_2022).in_dll(lib, "g_event_info")
    # Map data addresses back to symbol names, so flag/dyn tables keep their libs names.
    nm = subprocess.run(["nm", "-D", "--defined-only", lib_path], check=True, capture_output=True, text=True)
    offsets = {}
    for line in nm.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ("D", "R"):
            offsets[parts[2]] = int(parts[0], 16)
    base = ctypes.addressof(table) - offsets["g_event_info"]
    by_addr = {base + off: name for name, off in offsets.items()}

    flag_tables: dict[str, list[tuple[str, int]]] = {}
    dyn_tables: dict[str, list[tuple[int, int]]] = {}
    events = []
    for code in range(EVENT_MAX_2022):
        e = table[code]
        params = []
        for p in e.params[: e.nparams]:
            info: object = None
            if p.type in FLAG_TYPES and p.info:
                tname = by_addr[p.info]
                if tname not in flag_tables:
                    arr = ctypes.cast(p.info, ctypes.POINTER(NameValue))
                    items = []
                    i = 0
                    while arr[i].name is not None:
                        items.append((arr[i].name.decode(), arr[i].value))
                        i += 1
                    flag_tables[tname] = items
                info = tname
            elif p.type == PT["DYN"] and p.info:
                tname = by_addr[p.info]
                if tname not in dyn_tables:
                    arr2 = ctypes.cast(p.info, ctypes.POINTER(ParamInfo))
                    dyn_tables[tname] = [(arr2[i].type, arr2[i].fmt) for i in range(p.ninfo)]
                info = tname
            elif p.type == PT["FSRELPATH"]:
                info = int(p.info or 0)
            params.append((p.name.decode(), p.type, p.fmt, info))
        events.append((e.name.decode(), e.category, e.flags, params))

    sc = (SyscallDesc * SC_MAX_2022).in_dll(lib, "g_syscall_info_table")
    syscalls = [(sc[i].name.decode() if sc[i].name else "") for i in range(SC_MAX_2022)]
    return events, flag_tables, dyn_tables, syscalls


def parse_newest(path: Path):
    out = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        code_s, name, cats, flags, params_s = line.split("|", 4)
        params = []
        if params_s:
            for item in params_s.split(";"):
                parts = item.split(":")
                pname, ptype, pfmt = parts[0], PT[parts[1]], PF[parts[2]]
                info: object = None
                if len(parts) > 3:
                    info = int(parts[3]) if ptype == PT["FSRELPATH"] else parts[3]
                params.append((pname, ptype, pfmt, info))
        cat = None if cats == "-" else sum(EC[c] for c in cats.split("+"))
        flg = None if flags == "-" else sum(EF[f] for f in flags.split("+"))
        out[int(code_s)] = (None if name == "-" else name, cat, flg, params)
    return out


def merge(old_events, newest):
    merged: list[object] = []
    for code in range(EVENT_MAX_NEWEST):
        if code < EVENT_MAX_2022:
            name, cat, flags, params = old_events[code]
            n2022 = len(params)
            aliases: dict[int, str] = {}
            if code in newest:
                _n, _c, _f, nparams = newest[code]
                for i, (pn, pt, pf, pi) in enumerate(nparams):
                    if i < n2022:
                        if params[i][0] != pn:
                            aliases[i] = pn
                        assert _width(params[i][1]) == _width(pt), (code, i, params[i], pn, pt)
                    else:
                        params = params + [(pn, pt, pf, pi)]
            full = tuple(
                (pn, pt, pf, pi, (aliases[i],) if i in aliases else ()) for i, (pn, pt, pf, pi) in enumerate(params)
            )
            merged.append((name, cat, flags, full, n2022))
        elif code in newest:
            name, cat, flags, params = newest[code]
            full = tuple((pn, pt, pf, pi, ()) for (pn, pt, pf, pi) in params)
            merged.append((name, cat, flags, full, -1))
        else:
            merged.append(None)
    return merged


def _width(pt: int) -> int:
    fixed = {1: 1, 2: 2, 3: 4, 4: 8, 5: 1, 6: 2, 7: 4, 8: 8, 11: 8, 14: 8, 15: 8, 18: 2, 19: 1, 20: 8, 21: 8,
             22: 2, 23: 1, 24: 1, 25: 4, 26: 4, 28: 1, 29: 2, 30: 4, 31: 4, 32: 4, 33: 8, 34: 4, 42: 4, 44: 1,
             45: 2, 46: 4}
    return fixed.get(pt, -1)


HEADER = '''"""GENERATED by tools/gen_eventtable.py — do not edit by hand.

{doc}
"""
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="/usr/lib/x86_64-linux-gnu/libscap.so")
    args = ap.parse_args()
    old_events, flag_tables, dyn_tables, syscalls = read_2022(args.lib)
    newest = parse_newest(NEWEST_TXT)
    for raw in NEWEST_FLAGS_TXT.read_text().splitlines():
        if raw.strip() and not raw.startswith("#"):
            tname, items = raw.split("|", 1)
            table = flag_tables.setdefault(tname, [])
            have = {n for n, _ in table}
            for item in items.split(";"):
                n, v = item.split("=")
                if n not in have:
                    table.append((n, int(v)))
    merged = merge(old_events, newest)

    # Syscall ids for GENERIC events: 2022 PPM_SC table, plus the few ids the newest table added that
    # tercel's own driver may send (values from the newest ppm_events_public.h).
    sc = list(syscalls) + [""] * (420 - len(syscalls))
    sc[342] = "memfd_create"
    sc[410] = "sigreturn"

    body = HEADER.format(doc=(
        "EVENTS[code] = (name, category, flags, params, nparams_2022) or None for codes this table does\n"
        "not know; params = ((name, ppm_type, print_format, info, aliases), ...) where info is a flag or\n"
        "dynamic-type table name, the dirfd parameter index of an FSRELPATH, or None. nparams_2022 is the\n"
        "parameter count sysdig 0.29 knows (-1 for codes that did not exist in 2022)."))
    body += f"PPM_EVENT_MAX = {EVENT_MAX_NEWEST}\nPPM_EVENT_MAX_2022 = {EVENT_MAX_2022}\n\n"
    body += "EVENTS = " + pprint.pformat(tuple(merged), width=120, compact=True) + "\n\n"
    body += "FLAG_TABLES = " + pprint.pformat({k: tuple(v) for k, v in sorted(flag_tables.items())},
                                              width=120, compact=True) + "\n\n"
    body += "DYN_TABLES = " + pprint.pformat({k: tuple(v) for k, v in sorted(dyn_tables.items())},
                                             width=120, compact=True) + "\n\n"
    body += "SYSCALL_NAMES = " + pprint.pformat(tuple(sc), width=120, compact=True) + "\n"
    OUT_DATA.write_text(body)

    counts = tuple(len(e[3]) for e in old_events)
    large = sorted(c for c, e in enumerate(merged) if e is not None and e[2] & EF["LARGE_PAYLOAD"])
    lay = HEADER.format(doc=(
        "What the capture layer needs of the event table: the 2022 parameter count of each code (to\n"
        "rebuild the nparams of v1 event headers) and the codes whose length array is u32."))
    lay += f"NPARAMS_2022 = {counts!r}\n\nLARGE_PAYLOAD_CODES = frozenset({large!r})\n"
    OUT_LAYOUT.write_text(lay)
    print(f"wrote {OUT_DATA} ({len(merged)} codes) and {OUT_LAYOUT}")


if __name__ == "__main__":
    main()
