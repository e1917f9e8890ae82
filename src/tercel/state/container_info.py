"""Container metadata records and their parsers (runtime API answers, capture meta events).

``ContainerInfo`` holds what Falco's container plugin knows about one container. It is built from

  * a Docker Engine API ``GET /containers/{id}/json`` answer (+ the image's RepoTags/RepoDigests),
  * a podman libpod API ``GET /libpod/containers/{id}/json`` answer,
  * a CRI-O ``GET /containers/{id}`` answer (its inspect endpoint on the CRI-O socket),
  * libsinsp's ``{"container": {...}}`` JSON (CONTAINER_JSON events of captures, plugin async events),
  * the old CONTAINER_E event (id, type, name, image).

Every input is treated as hostile: wrong types become empty values, sizes are bounded, parsers raise
only ``ValueError`` (with the reason) for input that is not a container description at all.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# libsinsp / plugin container types (container_type.h) and their names (container.type)
TYPE_NAMES: dict[int, str] = {
    0: "docker", 1: "lxc", 2: "libvirt-lxc", 3: "mesos", 4: "rkt", 6: "cri", 7: "containerd",
    8: "cri-o", 9: "bpm", 11: "podman", 0xFFFE: "host",
}
SHORT_ID_LEN = 12
LABEL_MAX_LEN = 100  # the plugin's label_max_len default: longer label values are dropped
MAX_LABELS = 512
MAX_MOUNTS = 256
MAX_TEXT = 4096  # one name / image / path; longer values are cut
K8S_POD_NAME = "io.kubernetes.pod.name"
K8S_POD_NAMESPACE = "io.kubernetes.pod.namespace"
K8S_POD_UID = "io.kubernetes.pod.uid"
K8S_SANDBOX_ID = "io.kubernetes.sandbox.id"  # dockershim's label naming the pod sandbox


@dataclass(frozen=True, slots=True)
class Mount:
    source: str
    dest: str
    mode: str = ""
    rdwr: bool = False
    propagation: str = ""

    def text(self) -> str:
        """``source:dest:mode:rdwr:propagation`` (container.mount, container.mounts)."""
        return f"{self.source}:{self.dest}:{self.mode}:{'true' if self.rdwr else 'false'}:{self.propagation}"


@dataclass(slots=True)
class ContainerInfo:
    id: str  # 12 characters ("host" for the host)
    full_id: str = ""
    type: str = ""  # docker, podman, cri-o, containerd, cri, lxc, ... ("" unknown)
    name: str = ""
    image: str = ""
    image_id: str = ""
    image_repo: str = ""
    image_tag: str = ""
    image_digest: str = ""
    privileged: bool = False
    host_pid: bool = False
    host_network: bool = False
    host_ipc: bool = False
    mounts: tuple[Mount, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    ip: str = ""
    cni_json: str = ""
    created_time: int = 0  # seconds since the epoch
    pod_sandbox_id: str = ""
    pod_sandbox_labels: dict[str, str] = field(default_factory=dict)
    is_pod_sandbox: bool = False

    # --- derived values (container.* / k8s.* fields) -----------------------------------------
    def mount_by_index(self, i: int) -> Mount | None:
        return self.mounts[i] if 0 <= i < len(self.mounts) else None

    def mount_by_source(self, pattern: str) -> Mount | None:
        return next((m for m in self.mounts if _glob(pattern, m.source)), None)

    def mount_by_dest(self, pattern: str) -> Mount | None:
        return next((m for m in self.mounts if _glob(pattern, m.dest)), None)

    def mounts_text(self) -> str:
        return ",".join(m.text() for m in self.mounts)


def host_info() -> ContainerInfo:
    """What the plugin reports for host processes: id, full id and name "host", everything else empty."""
    return ContainerInfo(id="host", full_id="host", type="host", name="host")


def labels_text(labels: Mapping[str, str]) -> str:
    """``k1:v1, k2:v2`` sorted by key, without annotations and the io.kubernetes.* internals
    (container.labels, k8s.pod.labels); a label without value is its key alone."""
    parts = []
    for k in sorted(labels):
        if k.startswith("annotation.") or k.startswith("io.kubernetes."):
            continue
        v = labels[k]
        parts.append(f"{k}:{v}" if v else k)
    return ", ".join(parts)


def _glob(pattern: str, text: str) -> bool:
    return pattern == text or fnmatch.fnmatchcase(text, pattern)


# --- value helpers (hostile input) -------------------------------------------------------------
def _s(obj: Any, key: str) -> str:
    v = obj.get(key) if isinstance(obj, Mapping) else None
    return v[:MAX_TEXT] if isinstance(v, str) else ""


def _b(obj: Any, key: str) -> bool:
    v = obj.get(key) if isinstance(obj, Mapping) else None
    return v if isinstance(v, bool) else False


def _m(obj: Any, key: str) -> Mapping[str, Any]:
    v = obj.get(key) if isinstance(obj, Mapping) else None
    return v if isinstance(v, Mapping) else {}


def _labels(v: Any, max_len: int) -> dict[str, str]:
    if not isinstance(v, Mapping):
        return {}
    out: dict[str, str] = {}
    for k, val in v.items():
        if len(out) >= MAX_LABELS:
            break
        if isinstance(k, str) and isinstance(val, str) and len(val) <= max_len and len(k) <= MAX_TEXT:
            out[k] = val
    return out


def _mounts(v: Any) -> tuple[Mount, ...]:
    if not isinstance(v, list):
        return ()
    return tuple(
        Mount(_s(m, "Source"), _s(m, "Destination"), _s(m, "Mode"), _b(m, "RW"), _s(m, "Propagation"))
        for m in v[:MAX_MOUNTS] if isinstance(m, Mapping)
    )


def _created(text: str) -> int:
    """RFC 3339 (nanoseconds allowed) -> seconds since the epoch; 0 when unparsable."""
    if not text:
        return 0
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    head, dot, rest = t.partition(".")
    if dot:  # Python parses at most microseconds: drop the rest of the fraction
        digits = len(rest) - len(rest.lstrip("0123456789"))
        t = head + rest[digits:]
    try:
        return int(datetime.fromisoformat(t).timestamp())
    except ValueError:
        return 0


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag) of an image reference: the digest (``@sha256:...``) is dropped and the tag
    is what follows the last ``:`` after the last ``/`` (a registry port is no tag)."""
    if not image:
        return "", ""
    at = image.find("@")
    if at != -1:
        image = image[:at]
    colon = image.rfind(":")
    if colon == -1 or colon < image.rfind("/"):
        return image, ""
    return image[:colon], image[colon + 1:]


def _hex_id(v: str) -> str:
    return v[7:] if v.startswith("sha256:") else v


def _k8s(info: ContainerInfo) -> ContainerInfo:
    """Kubernetes details a container's own labels carry (CRI/dockershim label conventions): the
    sandbox id, and, for a container managed by Kubernetes, its labels as the pod's labels."""
    labels = info.labels
    if not info.pod_sandbox_id:
        info.pod_sandbox_id = labels.get(K8S_SANDBOX_ID, "")
    if not info.pod_sandbox_labels and K8S_POD_NAME in labels:
        info.pod_sandbox_labels = dict(labels)
    if info.name.startswith("k8s_POD"):
        info.is_pod_sandbox = True
    return info


# --- runtime API answers -------------------------------------------------------------------------
def from_docker(obj: Any, image: Any = None, *, label_max_len: int = LABEL_MAX_LEN) -> ContainerInfo:
    """A Docker Engine ``/containers/{id}/json`` answer (``image``: its ``/images/{id}/json`` answer)."""
    full_id = _s(obj, "Id")
    if not full_id:
        raise ValueError("container description without an Id")
    cfg, host, net = _m(obj, "Config"), _m(obj, "HostConfig"), _m(obj, "NetworkSettings")
    repo = tag = digest = ""
    # repository, tag and digest from the image (RepoDigests first), as the plugin's docker engine
    digests = [d for d in (image.get("RepoDigests") if isinstance(image, Mapping) else None) or []
               if isinstance(d, str)]
    all_digests = []
    for rd in digests:
        parts = rd.split("@")
        if len(parts) != 2:
            continue
        if not repo:
            repo = parts[0]
        all_digests.append(parts[1])
        if repo in rd:
            digest = parts[1]
            break
    if not digest and len(all_digests) == 1:
        digest = all_digests[0]
    for rt in [t for t in (image.get("RepoTags") if isinstance(image, Mapping) else None) or []
               if isinstance(t, str)]:
        parts = rt.split(":")
        if len(parts) != 2:
            continue
        if not repo:
            repo = parts[0]
        if repo in rt:
            tag = parts[1]
            break
    img = _s(cfg, "Image")
    ref = _s(obj, "Image")  # the image id ("sha256:<hex>") the container runs
    image_id = ref.split(":", 1)[1] if "/" not in ref and ":" in ref else ""
    info = ContainerInfo(
        id=full_id[:SHORT_ID_LEN], full_id=full_id, type="docker", name=_s(obj, "Name").lstrip("/"),
        image=img, image_id=image_id, image_repo=repo, image_tag=tag, image_digest=digest,
        privileged=_b(host, "Privileged"), host_pid=_s(host, "PidMode") == "host",
        host_network=_s(host, "NetworkMode") == "host", host_ipc=_s(host, "IpcMode") == "host",
        mounts=_mounts(obj.get("Mounts")), labels=_labels(cfg.get("Labels"), label_max_len),
        ip=_s(net, "IPAddress"), created_time=_created(_s(obj, "Created")),
    )
    return _k8s(info)


def from_libpod(obj: Any, *, label_max_len: int = LABEL_MAX_LEN) -> ContainerInfo:
    """A podman ``/libpod/containers/{id}/json`` answer (what the plugin's podman engine reads)."""
    full_id = _s(obj, "Id")
    if not full_id:
        raise ValueError("container description without an Id")
    cfg, host, net = _m(obj, "Config"), _m(obj, "HostConfig"), _m(obj, "NetworkSettings")
    image = _s(obj, "ImageName")
    repo, tag = split_image(image)
    info = ContainerInfo(
        id=full_id[:SHORT_ID_LEN], full_id=full_id, type="podman", name=_s(obj, "Name").lstrip("/"),
        image=image, image_id=_hex_id(_s(obj, "Image")), image_repo=repo, image_tag=tag,
        image_digest=_s(obj, "ImageDigest"), privileged=_b(host, "Privileged"),
        host_pid=_s(host, "PidMode") == "host", host_network=_s(host, "NetworkMode") == "host",
        host_ipc=_s(host, "IpcMode") == "host", mounts=_mounts(obj.get("Mounts")),
        labels=_labels(cfg.get("Labels"), label_max_len), ip=_s(net, "IPAddress"),
        created_time=_created(_s(obj, "Created")),
    )
    return _k8s(info)


def from_crio(obj: Any, cid: str, *, label_max_len: int = LABEL_MAX_LEN) -> ContainerInfo:
    """CRI-O's inspect answer (``GET /containers/{id}`` on its socket): name, image, labels,
    annotations (its own io.kubernetes.cri-o.* ones in ``crio_annotations``), sandbox, addresses."""
    if not isinstance(obj, Mapping):
        raise ValueError("container description is not an object")
    labels = _labels(obj.get("labels"), label_max_len)
    annotations = {**_labels(obj.get("annotations"), MAX_TEXT), **_labels(obj.get("crio_annotations"), MAX_TEXT)}
    full_id = annotations.get("io.kubernetes.cri-o.ContainerID", "") or cid
    image = _s(obj, "image")
    repo, tag = split_image(image)
    ips = obj.get("ip_addresses")
    ip = next((a for a in ips if isinstance(a, str) and "." in a), "") if isinstance(ips, list) else ""
    name = labels.get("io.kubernetes.container.name", "") or annotations.get("io.kubernetes.cri-o.Name", "")
    created = obj.get("created_time")
    info = ContainerInfo(
        id=full_id[:SHORT_ID_LEN], full_id=full_id, type="cri-o", name=name or _s(obj, "name"),
        image=image, image_id=_hex_id(annotations.get("io.kubernetes.cri-o.ImageRef", "")),
        image_repo=repo, image_tag=tag, image_digest=_s(obj, "image_ref").partition("@")[2],
        privileged=annotations.get("io.kubernetes.cri-o.PrivilegedRuntime") == "true",
        host_network=_b(obj, "host_network"), labels=labels, ip=ip or _s(obj, "ip_address"),
        pod_sandbox_id=_s(obj, "sandbox"),
        created_time=created // 10**9 if isinstance(created, int) and not isinstance(created, bool) else 0,
    )
    return _k8s(info)


# --- capture meta events -------------------------------------------------------------------------
def from_sinsp_json(text: str | bytes, *, label_max_len: int = LABEL_MAX_LEN) -> ContainerInfo:
    """libsinsp's / the container plugin's ``{"container": {...}}`` JSON (CONTAINER_JSON events)."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).rstrip(b"\0").decode("utf-8", "replace")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"container JSON is not valid JSON: {exc}") from None
    c = obj.get("container") if isinstance(obj, Mapping) else None
    if not isinstance(c, Mapping) and isinstance(obj, Mapping) and "id" in obj:
        c = obj  # some plugin releases write the fields beside an empty "container"
    if not isinstance(c, Mapping):
        raise ValueError('container JSON has no "container" object')
    cid = _s(c, "id")
    if not cid:
        raise ValueError("container JSON has no id")
    ctype = c.get("type")
    ip = _s(c, "ip")
    info = ContainerInfo(
        id=cid[:SHORT_ID_LEN], full_id=_s(c, "full_id"),
        type=TYPE_NAMES.get(ctype, "") if isinstance(ctype, int) else "", name=_s(c, "name"),
        image=_s(c, "image"), image_id=_s(c, "imageid"), image_repo=_s(c, "imagerepo"),
        image_tag=_s(c, "imagetag"), image_digest=_s(c, "imagedigest"), privileged=_b(c, "privileged"),
        host_pid=_b(c, "host_pid"), host_network=_b(c, "host_network"), host_ipc=_b(c, "host_ipc"),
        mounts=_mounts(c.get("Mounts")), labels=_labels(c.get("labels"), label_max_len),
        ip="" if ip == "0.0.0.0" else ip, cni_json=_s(c, "cni_json"),
        created_time=c["created_time"] if isinstance(c.get("created_time"), int) else 0,
        pod_sandbox_id=_s(c, "pod_sandbox_id"),
        pod_sandbox_labels=_labels(c.get("pod_sandbox_labels"), label_max_len),
        is_pod_sandbox=_b(c, "is_pod_sandbox"),
    )
    return info


def from_container_event(cid: str, ctype: int | None, name: str, image: str) -> ContainerInfo:
    """The old CONTAINER_E event (id, type, name, image)."""
    if not cid:
        raise ValueError("container event without an id")
    repo, tag = split_image(image)
    return ContainerInfo(id=cid[:SHORT_ID_LEN], type=TYPE_NAMES.get(ctype or 0, "") if ctype is not None else "",
                         name=name, image=image, image_repo=repo, image_tag=tag)
