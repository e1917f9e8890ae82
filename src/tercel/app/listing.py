"""``--list [SOURCE]`` / ``-N`` (fields), ``--list-events`` and ``-i``: what the engine knows, printed
in the layout of Falco's field and event listings (text, markdown or JSON)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from tercel.fields import registry
from tercel.state import eventtable as et

KNOWN_SOURCES = ("syscall",)
_RULE = "-" * 79


def _classes(source: str) -> list[tuple[registry.FieldClass, list[registry.FieldDef]]]:
    by_class: dict[str, list[registry.FieldDef]] = {}
    for f in registry.fields():
        if not f.hidden:
            by_class.setdefault(f.field_class, []).append(f)
    out = []
    for c in registry.classes():
        if source and source not in c.sources:
            continue
        fields = by_class.get(c.name, [])
        if fields:
            out.append((c, fields))
    return out


def _display_name(f: registry.FieldDef) -> str:
    if f.arg is registry.ArgMode.REQUIRED:
        return f"{f.name}[" + ("N" if f.arg_kind is registry.ArgKind.INDEX else "KEY") + "]"
    return f.name


def list_fields(source: str = "", *, names_only: bool = False, fmt: str = "text", verbose: bool = False) -> str:
    """The field listing. ``source`` restricts it to one event source ("" = all)."""
    if source and source not in KNOWN_SOURCES:
        raise ValueError("Value for --list must be a valid source type")
    classes = _classes(source)
    if names_only:
        return "".join(f"{f.name}\n" for _, fields in classes for f in fields)
    if fmt == "json":
        return json.dumps([
            {
                "name": c.name,
                "desc": c.desc,
                "event_sources": list(c.sources),
                "fields": [
                    {
                        "name": f.name,
                        "type": f.ftype,
                        "desc": f.desc,
                        "arg_required": f.arg is registry.ArgMode.REQUIRED,
                        "arg_allowed": f.arg is not registry.ArgMode.NONE,
                        "is_list": f.is_list,
                        "filter_only": f.filter_only,
                        "deprecated": f.deprecated,
                    }
                    for f in fields
                ],
            }
            for c, fields in classes
        ], indent=2) + "\n"
    out: list[str] = []
    if fmt == "markdown":
        for c, fields in classes:
            out.append(f"## Field Class: {c.name}\n\n{c.desc}\n\n")
            out.append("Name | Type | Description\n:----|:-----|:-----------\n")
            for f in fields:
                out.append(f"`{_display_name(f)}` | {f.ftype} | {f.desc}\n")
            out.append("\n")
        return "".join(out)
    out.append(f"Event Sources: {', '.join(sorted({s for c, _ in classes for s in c.sources}))}\n\n")
    for c, fields in classes:
        out.append(f"{_RULE}\nField Class:                  {c.name}\n")
        out.append(f"Event Sources:                {', '.join(c.sources)}\n\n")
        out.append(textwrap.fill(c.desc, 79) + "\n\n")
        for f in fields:
            name = _display_name(f)
            left = f"{name:<30}" if len(name) < 30 else name + " "
            desc = f.desc + (" (deprecated)" if f.deprecated else "")
            if verbose:
                desc = f"{f.ftype:<13} {desc}"
            wrapped = textwrap.wrap(desc, 79 - 30) or [""]
            out.append(left + wrapped[0] + "\n")
            for more in wrapped[1:]:
                out.append(" " * 30 + more + "\n")
        out.append("\n")
    return "".join(out)


def list_events(fmt: str = "text") -> str:
    """Falco's ``--list-events``: syscall events, then meta events, with their parameters."""
    rows = _event_rows()
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    out = []
    for cat, title in (("syscall", "Syscall events"), ("meta", "Metaevents")):
        items = [r for r in rows if r["category"] == cat]
        if not items:
            continue
        out.append(f"{title}:\n" if fmt == "text" else f"## {title}\n\nDefault | Dir | Name | Params\n:-|:-|:-|:-\n")
        for r in items:
            params = ", ".join(r["params"])
            if fmt == "text":
                out.append(f"{r['dir']} {r['name']}({params})\n")
            else:
                out.append(f"Yes | `{r['dir']}` | {r['name']} | {params}\n")
        out.append("\n")
    return "".join(out)


def _event_rows() -> list[dict[str, Any]]:
    """Every current event of the table (old versions and unused slots left out), as sysdig -L lists them."""
    type_names = {v: k[3:] for k, v in vars(et).items() if k.startswith("PT_") and isinstance(v, int)}
    rows = []
    for info in et.TABLE:
        if not info.known or info.old_version or info.unused:
            continue
        params = [f"{type_names.get(p.type, str(p.type))} {p.name}" for p in info.params]
        rows.append({"name": info.name, "dir": info.direction, "category": "syscall" if info.is_syscall else "meta",
                     "params": params})
    return rows


# The I/O syscalls Falco leaves out of the kernel set unless -A / base_syscalls.all (libsinsp's
# "io" and "io_other" ppm_sc sets minus what state tracking needs).
IGNORED_EVENTS = (
    "aio_cancel", "aio_destroy", "aio_getevents", "aio_read", "aio_setup", "aio_submit", "aio_write",
    "copy_file_range", "epoll_pwait", "epoll_wait", "eventfd", "eventfd2", "fsync", "fdatasync",
    "futex", "getdents", "getdents64", "io_cancel", "io_destroy", "io_getevents", "io_setup",
    "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "nanosleep", "clock_nanosleep",
    "poll", "ppoll", "pread", "pread64", "preadv", "preadv2", "pselect6", "pwrite", "pwrite64", "pwritev",
    "pwritev2", "read", "readv", "recv", "recvfrom", "recvmmsg", "recvmsg", "select", "send", "sendfile",
    "sendfile64", "sendmmsg", "sendmsg", "sendto", "splice", "switch", "sync_file_range", "tee",
    "vmsplice", "write", "writev",
)


def ignored_events_text() -> str:
    return "Ignored Event(s):\n" + "".join(f"- {n}\n" for n in sorted(IGNORED_EVENTS)) + "\n"
