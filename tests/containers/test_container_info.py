"""Container metadata parsers: runtime API answers and capture JSON, hostile input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tercel.state import container_info as ci
from tercel.state.container_meta import ContainerConfigError, ContainerMetadata

FULL = "170e3d757c9bf2d8edce2664dc5345f29a2b58cc644c1e729fd79a1d5bd77244"

# Shapes as podman 4.3 answers them (trimmed to the keys tercel reads plus some noise).
LIBPOD = {
    "Id": FULL, "Created": "2026-11-26T19:00:01.683742976Z", "Name": "tctest",
    "Image": "2a26be3453265543ed309da2342dc8c133bdc479bdb0d6f6b1c7ac51d619a9e5",
    "ImageName": "localhost/tercel-bb:test",
    "ImageDigest": "sha256:9c219e177a2892b5f8d362bb9e31464bce953297dc74bd8cb62958b42e56f018",
    "Config": {"Labels": {"app": "demo", "io.kubernetes.pod.name": "mypod",
                          "io.kubernetes.pod.namespace": "myns", "long": "x" * 101}},
    "HostConfig": {"Privileged": True, "PidMode": "host", "NetworkMode": "bridge", "IpcMode": "shareable"},
    "Mounts": [{"Type": "bind", "Source": "/tmp/ctx", "Destination": "/data", "Mode": "", "RW": False,
                "Propagation": "rprivate"}],
    "NetworkSettings": {"IPAddress": "10.88.0.21"},
}
DOCKER = {
    "Id": FULL, "Created": "2026-11-26T19:00:01Z", "Name": "/web",
    "Image": "sha256:2a26be3453265543ed309da2342dc8c133bdc479bdb0d6f6b1c7ac51d619a9e5",
    "Config": {"Image": "nginx:1.25", "Labels": {"io.kubernetes.sandbox.id": "ab" * 32}},
    "HostConfig": {"Privileged": False, "NetworkMode": "host", "IpcMode": "host", "PidMode": ""},
    "Mounts": [], "NetworkSettings": {"IPAddress": ""},
}
DOCKER_IMAGE = {"RepoTags": ["nginx:1.25"], "RepoDigests": ["nginx@sha256:abcd"]}


def test_libpod_answer() -> None:
    i = ci.from_libpod(LIBPOD)
    assert (i.id, i.full_id, i.type, i.name) == (FULL[:12], FULL, "podman", "tctest")
    assert (i.image, i.image_repo, i.image_tag) == ("localhost/tercel-bb:test", "localhost/tercel-bb", "test")
    assert i.image_digest.startswith("sha256:9c21") and i.image_id.startswith("2a26be")
    assert i.privileged and i.host_pid and not i.host_network and not i.host_ipc
    assert i.mounts_text() == "/tmp/ctx:/data::false:rprivate"
    assert "long" not in i.labels  # label_max_len (100) drops longer values
    assert i.ip == "10.88.0.21" and i.created_time == 1795719601
    # a container carrying the CRI pod labels: they stand for the pod's labels
    assert i.pod_sandbox_labels["app"] == "demo"
    assert ci.labels_text(i.labels) == "app:demo"


def test_docker_answer_with_image() -> None:
    i = ci.from_docker(DOCKER, DOCKER_IMAGE)
    assert (i.type, i.name, i.image, i.image_repo, i.image_tag) == ("docker", "web", "nginx:1.25", "nginx", "1.25")
    assert i.image_digest == "sha256:abcd" and i.image_id == DOCKER["Image"][7:]
    assert i.host_network and i.host_ipc and not i.host_pid
    assert i.pod_sandbox_id == "ab" * 32  # dockershim's sandbox label
    assert ci.from_docker(DOCKER).image_repo == ""  # no image answer: repository unknown


def test_crio_answer() -> None:
    obj = {"name": "k8s_app_pod", "image": "quay.io/org/app:v2@sha256:ff", "image_ref": "quay.io/org/app@sha256:ff",
           "sandbox": "cd" * 32, "ip_addresses": ["fd00::1", "10.0.0.7"], "created_time": 1_700_000_000_000_000_000,
           "labels": {"io.kubernetes.container.name": "app", "io.kubernetes.pod.name": "p"},
           "annotations": {"io.kubernetes.container.hash": "1"}, "host_network": True,
           "crio_annotations": {"io.kubernetes.cri-o.ContainerID": FULL}}
    i = ci.from_crio(obj, FULL[:12])
    assert (i.type, i.name, i.image_repo, i.image_tag, i.image_digest) == ("cri-o", "app", "quay.io/org/app", "v2", "sha256:ff")
    assert (i.ip, i.full_id, i.pod_sandbox_id, i.created_time) == ("10.0.0.7", FULL, "cd" * 32, 1_700_000_000)
    assert i.host_network and ci.from_crio({"ip_address": "10.1.1.1"}, "ab").ip == "10.1.1.1"  # older CRI-O


def test_sinsp_json() -> None:
    text = json.dumps({"container": {
        "id": FULL[:12], "full_id": FULL, "type": 11, "name": "n", "image": "i:t", "imagerepo": "i", "imagetag": "t",
        "privileged": True, "ip": "0.0.0.0", "labels": {"a": "b"}, "Mounts": [{"Source": "/s", "Destination": "/d", "RW": True}],
        "pod_sandbox_id": "x", "pod_sandbox_labels": None}})
    i = ci.from_sinsp_json(text.encode() + b"\0")
    assert (i.id, i.type, i.name, i.image_repo, i.privileged, i.ip) == (FULL[:12], "podman", "n", "i", True, "")
    assert i.mounts[0].text() == "/s:/d::true:" and i.pod_sandbox_labels == {}
    for bad in ("", "[]", "{}", '{"container": 3}', '{"container": {"id": 5}}', "{" * 100000):
        with pytest.raises(ValueError):
            ci.from_sinsp_json(bad)


@pytest.mark.parametrize("image,repo,tag", [
    ("registry.example.com:5000/foo/bar:latest@sha256:d", "registry.example.com:5000/foo/bar", "latest"),
    ("registry.example.com:5000/foo/bar@sha256:d", "registry.example.com:5000/foo/bar", ""),
    ("registry.example.com:5000/foo/bar", "registry.example.com:5000/foo/bar", ""),
    ("foo:latest", "foo", "latest"), ("", "", ""),
])
def test_split_image(image: str, repo: str, tag: str) -> None:
    assert ci.split_image(image) == (repo, tag)


def test_mount_lookup() -> None:
    i = ci.ContainerInfo(id="x", mounts=(ci.Mount("/usr/local/lib", "/l", "z", True, "rprivate"),
                                         ci.Mount("/var/run/docker.sock", "/var/run/docker.sock")))
    assert i.mount_by_index(1) is i.mounts[1] and i.mount_by_index(2) is None
    assert i.mount_by_source("/usr/local/*") is i.mounts[0]
    assert i.mount_by_dest("/var/run/docker.sock") is i.mounts[1]
    assert i.mount_by_source("/nope") is None


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=6),
                    max_leaves=30))
def test_hostile_answers_never_crash(obj: object) -> None:
    for parse in (lambda o: ci.from_docker(o, o), ci.from_libpod, lambda o: ci.from_crio(o, "abc"),
                  lambda o: ci.from_sinsp_json(json.dumps({"container": o}))):
        try:
            parse(obj)
        except ValueError:
            pass


def test_config() -> None:
    m = ContainerMetadata.from_config({"plugins": [{"name": "container", "init_config": {
        "engines": {"docker": {"enabled": False}, "podman": {"sockets": ["/tmp/a.sock"]},
                    "cri": {"sockets": ["/run/crio/crio.sock", "/run/containerd/containerd.sock"]}},
        "cache_size": 10, "negative_ttl": 1.5}}]})
    assert [(e.kind, e.path) for e in m.engines] == [("podman", "/tmp/a.sock"), ("cri-o", "/run/crio/crio.sock")]
    assert m.cache_size == 10 and m.negative_ttl == 1.5 and m.enabled
    default = ContainerMetadata.from_config({})
    assert ("docker", "/var/run/docker.sock") in [(e.kind, e.path) for e in default.engines]
    text = ContainerMetadata.from_config({"plugins": [{"name": "container", "init_config": {  # -o gives text
        "cache_size": "7", "negative_ttl": "0.5", "enabled": "true"}}]})
    assert (text.cache_size, text.negative_ttl, text.enabled) == (7, 0.5, True)
    off = ContainerMetadata.from_config({"plugins": [{"name": "container", "init_config": '{"enabled": false}'}]})
    assert not off.enabled and not off.start().running
    for init, key in (({"enabled": "yes"}, "enabled"), ({"engines": []}, "engines"),
                      ({"engines": {"podman": {"sockets": "/x"}}}, "engines.podman.sockets"),
                      ({"cache_size": -1}, "cache_size"), ("{bad", "init_config")):
        with pytest.raises(ContainerConfigError, match=key.replace(".", r"\.")):
            ContainerMetadata.from_config({"plugins": [{"name": "container", "init_config": init}]})


def test_cache_bounded_and_negative() -> None:
    m = ContainerMetadata(cache_size=3)
    for n in range(5):
        m.add(ci.ContainerInfo(id=f"{n:012d}"))
    assert m.known() == [f"{n:012d}" for n in (2, 3, 4)]
    assert m.get("000000000004") is not None and m.get("000000000000") is None
