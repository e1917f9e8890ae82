"""The Helm chart, rendered offline by Helm's own Go SDK (helm-python-sdk binds libhelm; no cluster):
lint, the manifests' structure for the default and the optional values, and the rendered tercel.yaml
loaded by tercel itself, whose web server then answers the probes' path."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from pkg_helpers import REPO

CHART = REPO / "deploy" / "helm" / "tercel"
helm = pytest.importorskip("helm_python", reason="helm-python-sdk (Helm's Go SDK) not installed: "
                           "the chart is not rendered (pip install -e '.[dev]')")


def render(values: dict[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
    """kind -> the manifests of that kind, as `helm template tercel CHART -n sec` would print them."""
    out = helm.Chart.load(str(CHART)).render(values or {}, name="tercel", namespace="sec", is_install=True)
    docs: dict[str, list[dict[str, Any]]] = {}
    for path, text in out.items():
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                assert doc["metadata"]["namespace"] == "sec", path
                docs.setdefault(doc["kind"], []).append(doc)
    return docs


def one(docs: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, Any]:
    assert len(docs.get(kind, [])) == 1, f"expected one {kind}, got {len(docs.get(kind, []))}"
    return docs[kind][0]


def tercel_yaml(docs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    cm = next(c for c in docs["ConfigMap"] if "tercel.yaml" in c["data"])
    return yaml.safe_load(cm["data"]["tercel.yaml"])


def container(docs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return one(docs, "DaemonSet")["spec"]["template"]["spec"]["containers"][0]


def test_lint_strict() -> None:
    result = helm.lint(str(CHART), strict=True)
    assert result["errors"] == [], result
    # severity 1 is INFO ("icon is recommended"): nothing above that
    assert [m for m in result["messages"] if m["severity"] > 1] == [], result


def test_chart_metadata_matches_the_package() -> None:
    import tercel

    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "tercel"
    assert chart["appVersion"] == tercel.__version__


def test_default_render() -> None:
    docs = render()
    assert sorted(docs) == ["ConfigMap", "DaemonSet", "Service", "ServiceAccount"]
    ds = one(docs, "DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    assert ds["apiVersion"] == "apps/v1"
    assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()
    assert pod["hostPID"] is True
    assert pod["tolerations"] == [{"operator": "Exists"}]  # every node, tainted ones too
    assert pod["serviceAccountName"] == one(docs, "ServiceAccount")["metadata"]["name"]
    c = container(docs)
    assert c["image"] == f"tercel:{yaml.safe_load((CHART / 'Chart.yaml').read_text())['appVersion']}"
    assert c["command"] == ["/usr/bin/tercel"] and c["args"] == ["-c", "/etc/tercel/tercel.yaml"]
    assert c["securityContext"]["privileged"] is True and c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    for path in ("/etc/tercel/tercel.yaml", "/sys/kernel/btf", "/host/run", "/etc/passwd", "/etc/group", "/tmp"):
        assert path in mounts, f"{path} not mounted"
        assert mounts[path]["name"] in volumes
    assert volumes[mounts["/sys/kernel/btf"]["name"]]["hostPath"]["path"] == "/sys/kernel/btf"
    assert volumes[mounts["/host/run"]["name"]]["hostPath"]["path"] == "/run" and mounts["/host/run"]["readOnly"]
    assert volumes[mounts["/etc/tercel/tercel.yaml"]["name"]]["configMap"]["name"] == \
        one(docs, "ConfigMap")["metadata"]["name"]
    assert "/etc/tercel/rules.d" not in mounts  # no customRules, no rules ConfigMap
    # probes and the Service go to the web server's health endpoint
    assert c["ports"] == [{"name": "web", "containerPort": 8765, "protocol": "TCP"}]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "web", "scheme": "HTTP"}
    svc = one(docs, "Service")
    assert svc["spec"]["selector"] == ds["spec"]["selector"]["matchLabels"]
    assert svc["spec"]["ports"] == [{"name": "web", "port": 8765, "targetPort": "web", "protocol": "TCP"}]
    assert "annotations" not in svc["metadata"]  # metrics off: no scrape annotations
    cfg = tercel_yaml(docs)
    assert cfg["engine"]["kind"] == "modern_ebpf" and cfg["engine"]["modern_ebpf"]["buf_size_preset"] == 4
    assert cfg["webserver"]["listen_address"] == "0.0.0.0"  # reachable by the kubelet's probes
    sockets = cfg["plugins"][0]["init_config"]["engines"]["docker"]["sockets"]
    assert sockets == ["/host/run/docker.sock"]


def test_least_privileged_custom_rules_sidekick_metrics() -> None:
    docs = render({
        "driver": {"leastPrivileged": True},
        "customRules": {"local.yaml": "- list: mine\n  items: [a]\n"},
        "falcosidekick": {"enabled": True, "url": "http://sidekick.sec:2801/"},
        "tercel": {"metrics": {"enabled": True}, "webserver": {"prometheus_metrics_enabled": True}},
        "image": {"registry": "registry.example", "tag": "9.9"},
        "extraArgs": ["-o", "log_level=debug"],
    })
    c = container(docs)
    sc = c["securityContext"]
    assert sc["privileged"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert set(sc["capabilities"]["add"]) == {"BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE", "DAC_READ_SEARCH"}
    assert sc["seccompProfile"] == {"type": "Unconfined"}
    ann = one(docs, "DaemonSet")["spec"]["template"]["metadata"]["annotations"]
    assert ann["container.apparmor.security.beta.kubernetes.io/tercel"] == "unconfined"
    assert c["image"] == "registry.example/tercel:9.9"
    assert c["args"] == ["-c", "/etc/tercel/tercel.yaml", "-o", "log_level=debug"]
    rules = next(cm for cm in docs["ConfigMap"] if cm["metadata"]["name"].endswith("-rules"))
    assert yaml.safe_load(rules["data"]["local.yaml"]) == [{"list": "mine", "items": ["a"]}]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in one(docs, "DaemonSet")["spec"]["template"]["spec"]["volumes"]}
    assert vols[mounts["/etc/tercel/rules.d"]]["configMap"]["name"] == rules["metadata"]["name"]
    cfg = tercel_yaml(docs)
    assert cfg["json_output"] is True
    assert cfg["http_output"] == {"enabled": True, "url": "http://sidekick.sec:2801/"}
    assert one(docs, "Service")["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"


def test_config_change_rolls_the_pods() -> None:
    a = one(render(), "DaemonSet")["spec"]["template"]["metadata"]["annotations"]
    b = one(render({"tercel": {"priority": "warning"}}), "DaemonSet")["spec"]["template"]["metadata"]["annotations"]
    assert a["checksum/config"] != b["checksum/config"] and a["checksum/rules"] == b["checksum/rules"]


def test_webserver_off_means_no_probes_nor_service() -> None:
    docs = render({"tercel": {"webserver": {"enabled": False}}})
    c = container(docs)
    assert not {"ports", "startupProbe", "livenessProbe", "readinessProbe"} & c.keys()
    assert "Service" not in docs


def test_bad_custom_rules_name_is_refused() -> None:
    with pytest.raises(helm.HelmError, match=r"customRules: \"notes.txt\" must end in .yaml"):
        render({"customRules": {"notes.txt": "x"}})


def test_values_are_documented_and_used() -> None:
    """Every .Values path the templates read exists in values.yaml (a typo would silently render nothing)."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    used = set()
    for tpl in (CHART / "templates").iterdir():
        used |= set(re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", tpl.read_text()))
    assert used
    for path in used:
        node: Any = values
        for part in path.strip(".").split("."):
            assert isinstance(node, dict) and part in node, f".Values{path} is not in values.yaml"
            node = node[part]


# ------------------------------------------------------------ the rendered config, run by tercel itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("values", [{}, {"falcosidekick": {"enabled": True}, "driver": {"leastPrivileged": True}}])
def test_rendered_config_loads_and_answers_the_probe(values: dict[str, Any], tmp_path: Path) -> None:
    docs = render(values)
    conf = tmp_path / "tercel.yaml"
    conf.write_text(yaml.safe_dump(tercel_yaml(docs)))
    rules = REPO / "src" / "tercel" / "data" / "tercel_rules.yaml"  # the image's /etc/tercel/tercel_rules.yaml
    port = _free_port()
    probe = container(docs)["livenessProbe"]["httpGet"]["path"]
    # nodriver: the pod's config, outputs and web server without eBPF; loopback instead of 0.0.0.0.
    cmd = [sys.executable, "-m", "tercel", "-c", str(conf), "-r", str(rules), "-M", "20",
           "-o", "engine.kind=nodriver", "-o", "webserver.listen_address=127.0.0.1",
           "-o", f"webserver.listen_port={port}", "-o", "http_output.url=http://127.0.0.1:9/"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = b""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2) as r:
                    assert r.status == 200
                    body = r.read()
                    break
            except OSError:
                time.sleep(0.1)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert body == b'{"status": "ok"}' or yaml.safe_load(body) == {"status": "ok"}, err
    assert "unknown configuration key" not in err and "warning" not in err.lower(), err
    assert "error" not in err.lower(), err
