"""Extraction of the container plugin's fields from container metadata (container.*, k8s.*).

The thread's container id comes from its cgroups (state); everything else from the metadata store
(``tercel.state.container_meta``): the live runtimes' answers, or a capture's container events.
As in Falco's container plugin: host processes get the host entry (id, full id and name "host",
empty strings elsewhere, k8s.* none); a container whose metadata has not arrived (yet) gives its id
and none (``<NA>``) for every other field; container.start_ts / duration come from the kernel's
pid namespace start, not from the runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tercel.fields import (
    catalog,  # noqa: F401  (declarations first: this module attaches to them)
    extract_proc,  # noqa: F401  (its container.name is replaced here: it goes first)
)
from tercel.fields.registry import Extractor, implement
from tercel.state import container_info as ci
from tercel.state import container_meta as cm
from tercel.state import inspector as I
from tercel.state.containers import HOST

_HOST_INFO = ci.host_info()


def info_of(evt: Any) -> ci.ContainerInfo | None:
    """The metadata of the event's container: the host entry for host threads, None when unknown."""
    t = evt.thread
    if t is None:  # a container event: the container it describes
        c = evt.cache
        return None if c is None else c.get(cm.EVENT_INFO)
    cid = t.container_id
    if cid == HOST:
        return _HOST_INFO
    store = cm.store_for(I.current())
    return None if store is None else store.get(cid, t.cgroups)


def _field(name: str, get: Callable[[ci.ContainerInfo], Any]) -> None:
    def factory(_arg: str | None) -> Extractor:
        def fn(evt: Any) -> Any:
            info = info_of(evt)
            return None if info is None else get(info)
        return fn
    implement(name, factory)


def _keyed(name: str, get: Callable[[ci.ContainerInfo, str], Any]) -> None:
    def factory(arg: str | None) -> Extractor:
        key = arg or ""

        def fn(evt: Any) -> Any:
            info = info_of(evt)
            return None if info is None else get(info, key)
        return fn
    implement(name, factory)


def _mount(name: str, part: Callable[[ci.Mount], str], by_dest: bool = False) -> None:
    """container.mount*[N] by position, [PATH-GLOB] by source (mount.source: by destination)."""
    def factory(arg: str | None) -> Extractor:
        key = arg or ""
        index = int(key) if key.isdigit() else None

        def fn(evt: Any) -> Any:
            info = info_of(evt)
            if info is None:
                return None
            if index is not None:
                m = info.mount_by_index(index)
            else:
                m = info.mount_by_dest(key) if by_dest else info.mount_by_source(key)
            return None if m is None else part(m)
        return fn
    implement(name, factory)


def _sandbox(info: ci.ContainerInfo) -> ci.ContainerInfo | None:
    """The pod's sandbox container when its metadata is cached."""
    sid = info.pod_sandbox_id[: ci.SHORT_ID_LEN]
    if not sid:
        return None
    store = cm.store_for(I.current())
    return None if store is None else store.get(sid)


def _pod_ip(info: ci.ContainerInfo) -> str | None:
    """The sandbox's address when known; a Kubernetes container without a sandbox id shares its own;
    no pod at all gives "" (the plugin's empty host entry answers there)."""
    if info.cni_json:
        return info.ip
    if not info.pod_sandbox_id:
        return info.ip if ci.K8S_POD_NAME in info.labels else ""
    sb = _sandbox(info)
    return None if sb is None else sb.ip


def _pod_cni(info: ci.ContainerInfo) -> str | None:
    if info.cni_json or not info.pod_sandbox_id:
        return info.cni_json
    sb = _sandbox(info)
    return None if sb is None else sb.cni_json


def _pod_labels(info: ci.ContainerInfo) -> dict[str, str]:
    sb = _sandbox(info) if not info.cni_json else None
    return sb.pod_sandbox_labels if sb is not None and sb.pod_sandbox_labels else info.pod_sandbox_labels


def _container_id(_arg: str | None) -> Extractor:
    """The cgroup id; while live, a container whose metadata is missing gets looked up now, so the
    rules that test `container` (nearly all of them, at every exec) prefetch it before its alerts."""
    def fn(evt: Any) -> Any:
        t = evt.thread
        if t is None:
            info = info_of(evt)
            return None if info is None else info.id
        cid = t.container_id
        if cid != HOST:
            live = cm.active()
            if live is not None:
                live.get(cid, t.cgroups)
        return cid
    return fn


def _duration(_arg: str | None) -> Extractor:
    def fn(evt: Any) -> Any:
        t = evt.thread
        if t is None or t.container_id == HOST or not t.pidns_init_start_ts:
            return None
        return evt.ts - t.pidns_init_start_ts
    return fn


def _nothing(_arg: str | None) -> Extractor:
    return lambda _evt: None


def _register() -> None:
    f = _field
    implement("container.id", _container_id)
    f("container.full_id", lambda i: i.full_id)
    f("container.name", lambda i: i.name)
    f("container.image", lambda i: i.image)
    f("container.image.id", lambda i: i.image_id)
    f("container.type", lambda i: i.type)
    f("container.privileged", lambda i: i.privileged)
    f("container.mounts", lambda i: i.mounts_text())
    f("container.image.repository", lambda i: i.image_repo)
    f("container.image.tag", lambda i: i.image_tag)
    f("container.image.digest", lambda i: i.image_digest)
    f("container.ip", lambda i: i.ip)
    f("container.cni.json", lambda i: i.cni_json)
    f("container.host_pid", lambda i: i.host_pid)
    f("container.host_network", lambda i: i.host_network)
    f("container.host_ipc", lambda i: i.host_ipc)
    f("container.labels", lambda i: ci.labels_text(i.labels))
    _keyed("container.label", lambda i, k: i.labels.get(k))
    _mount("container.mount", ci.Mount.text)
    _mount("container.mount.source", lambda m: m.source, by_dest=True)
    _mount("container.mount.dest", lambda m: m.dest)
    _mount("container.mount.mode", lambda m: m.mode)
    _mount("container.mount.rdwr", lambda m: "true" if m.rdwr else "false")
    _mount("container.mount.propagation", lambda m: m.propagation)
    implement("container.duration", _duration)
    # deprecated probes: the plugin extracts nothing for them (no health-check metadata)
    for name in ("proc.is_container_healthcheck", "proc.is_container_liveness_probe",
                 "proc.is_container_readiness_probe", "container.healthcheck",
                 "container.liveness_probe", "container.readiness_probe"):
        implement(name, _nothing)
    # Kubernetes: from the CRI labels io.kubernetes.* the runtime keeps on the container
    f("k8s.pod.name", lambda i: i.labels.get(ci.K8S_POD_NAME))
    f("k8s.ns.name", lambda i: i.labels.get(ci.K8S_POD_NAMESPACE))
    f("k8s.pod.uid", lambda i: i.labels.get(ci.K8S_POD_UID))
    f("k8s.pod.id", lambda i: i.labels.get(ci.K8S_POD_UID))
    f("k8s.pod.sandbox_id", lambda i: i.pod_sandbox_id[: ci.SHORT_ID_LEN])
    f("k8s.pod.full_sandbox_id", lambda i: i.pod_sandbox_id)
    _keyed("k8s.pod.label", lambda i, k: _pod_labels(i).get(k))
    f("k8s.pod.labels", lambda i: ci.labels_text(_pod_labels(i)))
    f("k8s.pod.ip", _pod_ip)
    f("k8s.pod.cni.json", _pod_cni)


_register()
