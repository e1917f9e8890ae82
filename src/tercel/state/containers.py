"""Container ids from a thread's cgroups (the runtimes' cgroup path patterns)."""

from __future__ import annotations

import re
from collections.abc import Iterable

HOST = "host"

# One path component naming a container: docker-<id>.scope, cri-containerd-<id>.scope,
# crio-<id>.scope, libpod-<id>[.scope], or a bare 64-hex id (/docker/<id>, /kubepods/.../<id>).
# conmon (libpod-conmon-<id>, crio-conmon-<id>) is the runtime's monitor on the host: no match.
# /process_api/<32 hex> (this sandbox's own cgroup) is not a container either: no match.
_COMPONENT = re.compile(
    r"^(?:docker-|cri-containerd-|crio-|libpod-|containerd-)?([0-9a-f]{64})(?:\.scope)?$"
)
_LXC = re.compile(r"^/lxc(?:\.payload)?/([^/]+)")


def full_id_from_cgroups(cgroups: Iterable[tuple[str, str]]) -> str | None:
    """The 64-hex container id in a thread's (controller, path) cgroups (what runtimes are asked
    with), or None."""
    for _ctrl, path in cgroups:
        for comp in path.split("/"):
            if len(comp) >= 64:
                m = _COMPONENT.match(comp)
                if m:
                    return m.group(1)
    return None


def container_id(cgroups: Iterable[tuple[str, str]]) -> str:
    """The 12-character container id for these (controller, path) cgroups, or ``"host"``."""
    for _ctrl, path in cgroups:
        if not path or path == "/":
            continue
        for comp in path.split("/"):
            if len(comp) >= 64:
                m = _COMPONENT.match(comp)
                if m:
                    return m.group(1)[:12]
        m = _LXC.match(path)
        if m:
            return m.group(1)[:12]
    return HOST
