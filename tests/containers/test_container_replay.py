"""Replay: a capture's CONTAINER_JSON events give the container.* / k8s.* fields; without them a
container is known by id only (<NA> for the rest); host processes get the host entry. Run through the
CLI as users do (`tercel -e CAPTURE -r RULES`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tercel.capture.records import InitialState, MachineInfo, ProcRecord, UserRecord
from tercel.capture.scap_writer import ScapWriter, encode_event

FULL = "170e3d757c9bf2d8edce2664dc5345f29a2b58cc644c1e729fd79a1d5bd77244"
OTHER = "99" * 32
HOST_TID, CTR_TID, BARE_TID = 100, 700, 800
OPENAT_X = 307
CONTAINER_JSON_2 = 324
CONTAINER_E = 228
RULES = """\
- rule: Shadow opened
  desc: test rule
  condition: evt.type = openat and fd.name = /etc/shadow
  output: >
    shadow (id=%container.id full=%container.full_id name=%container.name image=%container.image
    repo=%container.image.repository tag=%container.image.tag type=%container.type
    priv=%container.privileged app=%container.label[app] labels=%container.labels mount=%container.mount[0]
    msrc=%container.mount.source[/data] pod=%k8s.pod.name ns=%k8s.ns.name podlabel=%k8s.pod.label[app]
    podlabels=%k8s.pod.labels ip=%container.ip hostpid=%container.host_pid hc=%proc.is_container_healthcheck
    start=%container.start_ts dur=%container.duration)
  priority: WARNING
"""
SINSP_JSON = {"container": {
    "id": FULL[:12], "full_id": FULL, "type": 11, "name": "web", "image": "localhost/app:v1",
    "imagerepo": "localhost/app", "imagetag": "v1", "imageid": "2a26", "imagedigest": "sha256:9c",
    "privileged": True, "host_pid": False, "ip": "10.88.0.5",
    "labels": {"app": "demo", "io.kubernetes.pod.name": "mypod", "io.kubernetes.pod.namespace": "myns"},
    "pod_sandbox_labels": {"app": "demo"},
    "Mounts": [{"Source": "/srv", "Destination": "/data", "Mode": "", "RW": False, "Propagation": "rprivate"}],
}}


def _proc(tid: int, comm: str, cgroup: str) -> ProcRecord:
    return ProcRecord(tid, tid, 1, comm=comm, exe=comm, exepath=f"/bin/{comm}", cwd="/", uid=0, gid=0,
                      vtid=tid, vpid=tid, root="/", fdlimit=1024, cgroups=[("cpu", cgroup), ("memory", cgroup)])


def _openat(ts: int, tid: int) -> bytes:
    u64 = (3).to_bytes(8, "little", signed=True)
    params = [u64, (-100).to_bytes(8, "little", signed=True), b"/etc/shadow\0", (1).to_bytes(4, "little"),
              (0).to_bytes(4, "little"), (0).to_bytes(4, "little")]
    return encode_event(ts, tid, OPENAT_X, params)


def _capture(path: Path, meta: list[bytes]) -> Path:
    initial = InitialState(
        machine=MachineInfo(num_cpus=1, hostname="t"),
        procs=[_proc(1, "init", "/"), _proc(HOST_TID, "cat", "/user.slice"),
               _proc(CTR_TID, "cat", f"/libpod_parent/libpod-{FULL}"),
               _proc(BARE_TID, "cat", f"/system.slice/docker-{OTHER}.scope")],
        users=[UserRecord(0, 0, "root", "/root", "/bin/sh")])
    ts = 1_700_000_000_000_000_000
    with ScapWriter(path, initial=initial) as w:
        for m in meta:
            w.write_event(m)
        for n, tid in enumerate((HOST_TID, CTR_TID, BARE_TID)):
            w.write_event(_openat(ts + 1000 * (n + 10), tid))
    return path


def _replay(tmp: Path, capture: Path) -> dict[int, dict[str, object]]:
    rules = tmp / "rules.yaml"
    rules.write_text(RULES)
    r = subprocess.run([sys.executable, "-m", "tercel", "-e", str(capture), "-r", str(rules),
                        "-o", "json_output=true", "-o", "append_output[0].extra_fields[0]=proc.pid"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    alerts = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    return {a["output_fields"]["proc.pid"]: a["output_fields"] for a in alerts}


def test_replay_with_container_json(tmp_path: Path) -> None:
    meta = [encode_event(1_699_999_999_000_000_000, -1, CONTAINER_JSON_2,
                         [json.dumps(SINSP_JSON).encode() + b"\0"])]
    by_pid = _replay(tmp_path, _capture(tmp_path / "c.scap", meta))
    c = by_pid[CTR_TID]
    assert (c["container.id"], c["container.full_id"], c["container.name"]) == (FULL[:12], FULL, "web")
    assert (c["container.image"], c["container.image.repository"], c["container.image.tag"]) == \
        ("localhost/app:v1", "localhost/app", "v1")
    assert (c["container.type"], c["container.privileged"], c["container.label[app]"]) == ("podman", True, "demo")
    assert c["container.labels"] == "app:demo"
    assert c["container.mount[0]"] == "/srv:/data::false:rprivate" and c["container.mount.source[/data]"] == "/srv"
    assert (c["k8s.pod.name"], c["k8s.ns.name"], c["k8s.pod.label[app]"], c["k8s.pod.labels"]) == \
        ("mypod", "myns", "demo", "app:demo")
    assert (c["container.ip"], c["container.host_pid"], c["proc.is_container_healthcheck"]) == ("10.88.0.5", False, None)
    # the process list of a capture has no pid-namespace start (clone/execve events bring it)
    assert c["container.start_ts"] is None and c["container.duration"] is None
    # a container without metadata: its id, and <NA> (null) for the rest
    b = by_pid[BARE_TID]
    assert b["container.id"] == OTHER[:12]
    assert all(b[k] is None for k in ("container.name", "container.image.repository", "k8s.pod.name",
                                      "container.full_id", "container.type", "container.privileged"))
    # the host entry, as Falco's container plugin: name "host", empty image, no pod
    h = by_pid[HOST_TID]
    assert (h["container.id"], h["container.name"], h["container.full_id"], h["container.type"]) == \
        ("host", "host", "host", "host")
    assert (h["container.image.repository"], h["container.image.tag"], h["k8s.pod.name"]) == ("", "", None)


def test_replay_old_container_event_and_garbage(tmp_path: Path) -> None:
    """CONTAINER_E (id, type, name, image) counts; malformed container JSON is skipped."""
    old = encode_event(1_699_999_999_000_000_000, 0, CONTAINER_E,
                       [FULL[:12].encode() + b"\0", (0).to_bytes(4, "little"), b"old\0", b"nginx:1.2\0"])
    junk = encode_event(1_699_999_999_000_000_001, 0, CONTAINER_JSON_2, [b"{not json\0"])
    junk2 = encode_event(1_699_999_999_000_000_002, 0, CONTAINER_JSON_2, [b'{"container": []}\0'])
    by_pid = _replay(tmp_path, _capture(tmp_path / "o.scap", [old, junk, junk2]))
    c = by_pid[CTR_TID]
    assert (c["container.name"], c["container.type"], c["container.image.repository"], c["container.image.tag"]) == \
        ("old", "docker", "nginx", "1.2")
    assert by_pid[BARE_TID]["container.name"] is None


def test_start_ts_and_duration_from_the_pid_namespace() -> None:
    from tercel.fields import registry
    from tercel.state.inspector import Inspector

    start = 1_699_000_000_000_000_000
    rec = _proc(CTR_TID, "cat", f"/libpod_parent/libpod-{FULL}")
    rec.pidns_init_start_ts = start
    insp = Inspector(InitialState(procs=[rec, _proc(HOST_TID, "cat", "/")]))
    values = {}
    for tid in (CTR_TID, HOST_TID):
        evt = insp.process(_openat(start + 5000, tid), 0, 0, 0)
        for name in ("container.start_ts", "container.duration"):
            found = registry.resolve(name)
            assert found is not None
            values[tid, name] = registry.make_extractor(*found)(evt)
    assert values[CTR_TID, "container.start_ts"] == start and values[CTR_TID, "container.duration"] == 5000
    assert values[HOST_TID, "container.start_ts"] is None and values[HOST_TID, "container.duration"] is None


def test_replay_plugin_async_events_and_container_event_rules(tmp_path: Path) -> None:
    """Falco 0.41+ captures hold the container plugin's async events (name "container", its JSON);
    a rule on `evt.type = container` sees the described container's fields (the event has no thread)."""
    asyncev = encode_event(1_699_999_999_000_000_000, 1, 402, [
        (0).to_bytes(4, "little"), b"container\0", json.dumps(SINSP_JSON).encode() + b"\0"])
    other = dict(SINSP_JSON["container"], id=OTHER[:12], full_id=OTHER, name="db", type=0)
    jsonev = encode_event(1_699_999_999_000_000_001, -1, CONTAINER_JSON_2, [json.dumps({"container": other}).encode()])
    noise = encode_event(1_699_999_999_000_000_002, 1, 402, [(7).to_bytes(4, "little"), b"other\0", b"{}"])
    cap = _capture(tmp_path / "a.scap", [asyncev, jsonev, noise])
    rules = tmp_path / "ev.yaml"
    rules.write_text("- rule: Container event\n  desc: t\n  condition: evt.type = container\n"
                     "  output: started %container.id %container.name %container.type\n  priority: INFO\n")
    r = subprocess.run([sys.executable, "-m", "tercel", "-e", str(cap), "-r", str(rules), "-o", "json_output=true"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    started = [json.loads(x)["output_fields"] for x in r.stdout.splitlines() if x.startswith("{")]
    assert [(f["container.id"], f["container.name"], f["container.type"]) for f in started] == \
        [(OTHER[:12], "db", "docker")]
    by_pid = _replay(tmp_path, cap)
    assert by_pid[CTR_TID]["container.name"] == "web" and by_pid[BARE_TID]["container.name"] == "db"
