"""Metadata of real podman containers through the API socket (`podman system service`): the lookup,
the event-stream prefetch, negative caching, a runtime that is down, and the fields of a thread whose
cgroups name the container."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from containers_podman import Podman

from tercel.capture.records import InitialState, ProcRecord
from tercel.capture.scap_writer import encode_event
from tercel.fields import registry
from tercel.state.container_engines import Engine
from tercel.state.container_meta import ContainerMetadata
from tercel.state.inspector import Inspector

pytestmark = pytest.mark.slow

K8S = ("--label", "io.kubernetes.pod.name=web-7d4b9", "--label", "io.kubernetes.pod.namespace=shop",
       "--label", "io.kubernetes.pod.uid=3e41dc6b-08a8-44db-bc2a-3724b18ab19a", "--label", "app=web")


def _meta(podman: Podman, kind: str = "podman", **kw: object) -> ContainerMetadata:
    return ContainerMetadata([Engine(kind, podman.socket)], **kw)  # type: ignore[arg-type]


def test_lookup_name_image_labels_privileged(podman: Podman, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    name, full = podman.run("--privileged", "--label", "team=blue", "-v", f"{tmp_path / 'data'}:/data:ro")
    info = Engine("podman", podman.socket).inspect(full[:12])
    assert info is not None
    assert (info.id, info.full_id, info.name, info.type) == (full[:12], full, name, "podman")
    assert info.image == podman.image
    assert (info.image_repo, info.image_tag) == tuple(podman.image.rsplit(":", 1))
    assert info.image_digest.startswith("sha256:") and len(info.image_id) == 64
    assert info.privileged and info.labels["team"] == "blue"
    m = info.mount_by_dest("/data")
    assert m is not None and m.source == str(tmp_path / "data") and not m.rdwr
    assert info.ip or info.host_network is False
    # the same container through the Docker-compatible API
    dinfo = Engine("docker", podman.socket).inspect(full[:12])
    assert dinfo is not None and (dinfo.type, dinfo.name, dinfo.image) == ("docker", name, podman.image)
    assert (dinfo.image_repo, dinfo.image_tag) == (info.image_repo, info.image_tag)
    # unprivileged by default
    _n2, full2 = podman.run()
    other = Engine("podman", podman.socket).inspect(full2[:12])
    assert other is not None and not other.privileged


def test_store_async_get_and_negative_cache(podman: Podman) -> None:
    _name, full = podman.run("--label", "team=red")
    with _meta(podman, follow_events=False, negative_ttl=30.0) as meta:
        t0 = time.perf_counter()
        first = meta.get(full[:12])  # never waits: None, a lookup is queued
        assert time.perf_counter() - t0 < 0.05  # a lookup would take milliseconds: none happened here
        got = meta.wait_for(full[:12], 10)
        assert got is not None and got.labels["team"] == "red" and (first is None or first is got)
        assert meta.wait_for("0123456789ab", 0.5) is None
        lookups = meta.lookups
        for _ in range(100):
            assert meta.get("0123456789ab") is None
        time.sleep(0.2)
        assert meta.lookups == lookups  # the miss is cached
    assert not meta.running and meta.status()["missed"] >= 1


def test_event_stream_prefetches_new_containers(podman: Podman) -> None:
    with _meta(podman) as meta:
        time.sleep(0.3)  # the follower subscribes
        _name, full = podman.run()
        end = time.monotonic() + 10
        while full[:12] not in meta.known() and time.monotonic() < end:
            time.sleep(0.02)
        assert full[:12] in meta.known(), meta.status()  # nobody asked: the start event did


def test_runtime_down_never_blocks(tmp_path: Path) -> None:
    meta = ContainerMetadata([Engine("podman", str(tmp_path / "nothing.sock")),
                              Engine("docker", str(tmp_path / "nothing2.sock"))])
    with meta:
        t0 = time.perf_counter()
        for _ in range(1000):
            assert meta.get("0123456789ab") is None
        assert time.perf_counter() - t0 < 0.5  # generous: the machine is shared
        assert meta.wait_for("0123456789ab", 0.3) is None
    t0 = time.perf_counter()
    meta.stop()
    assert time.perf_counter() - t0 < 1


def _thread_fields(full: str, pid: int, fields: list[str]) -> dict[str, object]:
    """Field values for an event of the container's process, its cgroups read from /proc as the live
    source's scan does."""
    cgroups = []
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _hid, ctrl, path = line.split(":", 2)
        cgroups.append((ctrl, path))
    insp = Inspector(InitialState(procs=[ProcRecord(pid, pid, 1, comm="sleep", cgroups=cgroups)]))
    evt = insp.process(encode_event(1, pid, 307, [(3).to_bytes(8, "little")]), 0, 0, 0)
    out = {}
    for f in fields:
        name, _, arg = f.partition("[")
        found = registry.resolve(name)
        assert found is not None, f
        out[f] = registry.make_extractor(found[0], arg.rstrip("]") or found[1])(evt)
    return out


def test_fields_of_a_container_thread_with_k8s_labels(podman: Podman) -> None:
    fields = ["container.id", "container.full_id", "container.name", "container.image.repository",
              "container.image.tag", "container.type", "k8s.pod.name", "k8s.ns.name", "k8s.pod.uid",
              "k8s.pod.label[app]", "k8s.pod.labels", "container.label[app]", "container.labels"]
    with _meta(podman, follow_events=False) as meta:
        time.sleep(0.3)  # the start-up listing of existing containers is over: this one comes later
        name, full = podman.run(*K8S)
        pid = int(podman.run_podman("inspect", "-f", "{{.State.Pid}}", name).stdout.strip())
        # before the metadata arrived: the id only (as Falco: <NA> for the rest); the miss asks for it
        assert _thread_fields(full, pid, ["container.name", "container.id"]) == {
            "container.name": None, "container.id": full[:12]}
        assert meta.wait_for(full[:12], 10) is not None
        after = _thread_fields(full, pid, fields)
    assert after == {
        "container.id": full[:12], "container.full_id": full, "container.name": name,
        "container.image.repository": podman.image.rsplit(":", 1)[0],
        "container.image.tag": podman.image.rsplit(":", 1)[1], "container.type": "podman",
        "k8s.pod.name": "web-7d4b9", "k8s.ns.name": "shop", "k8s.pod.uid": "3e41dc6b-08a8-44db-bc2a-3724b18ab19a",
        "k8s.pod.label[app]": "web", "k8s.pod.labels": "app:web", "container.label[app]": "web",
        "container.labels": "app:web",
    }


def test_existing_containers_are_listed_at_start_and_threads_end(podman: Podman) -> None:
    import threading

    _name, full = podman.run("--label", "team=green")
    before = {t.name for t in threading.enumerate()}
    meta = _meta(podman).start()
    try:
        end = time.monotonic() + 10
        while full[:12] not in meta.known() and time.monotonic() < end:
            time.sleep(0.02)
        assert full[:12] in meta.known()  # nobody asked: the start-up listing did
        assert {t.name for t in threading.enumerate()} - before == {"tercel-containers", "tercel-containers-podman"}
    finally:
        meta.stop()
    time.sleep(0.1)
    assert not {t.name for t in threading.enumerate() if t.name.startswith("tercel-containers")}
