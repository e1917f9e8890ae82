"""metrics: snapshots as the internal rule, a JSON-lines file, and Prometheus text."""

from __future__ import annotations

import json

import pytest

from tercel.app.config import load_config
from tercel.app.metrics import RULE, Metrics, parse_interval


class Sink:
    def __init__(self):
        self.alerts = []

    def submit(self, alert):
        self.alerts.append(alert)


def test_parse_interval():
    assert parse_interval("15s") == 15.0
    assert parse_interval("1h") == 3600.0
    assert parse_interval("5000") == 5.0
    assert parse_interval(250) == 0.25
    assert parse_interval("10ms") == 0.1  # Falco's 100 ms floor
    with pytest.raises(ValueError):
        parse_interval("soon")


def test_snapshot_rule_and_file(tmp_path):
    out = tmp_path / "metrics.jsonl"
    cfg = load_config(None, ["metrics.enabled=true", "metrics.interval=1s", "metrics.output_rule=true",
                             f"metrics.output_file={out}"])
    sink = Sink()
    counts = {"Rule A": 3, "Rule B": 0}
    m = Metrics(cfg, outputs=sink, hostname="h", rule_counts=lambda: counts, events=lambda: 1000,
                drops=lambda: (990, 10), tables=lambda: {"n_threads": 42})
    m.tick(now=m._next - 0.5)  # not yet
    assert sink.alerts == []
    m.tick(now=m._next)
    assert len(sink.alerts) == 1
    a = sink.alerts[0]
    assert a.rule == RULE and a.source == "internal" and a.priority.name == "INFORMATIONAL"
    f = a.output_fields
    assert f["falco.num_evts"] == 1000 and f["scap.n_drops"] == 10 and f["falco.n_threads"] == 42
    assert f["falco.rules.Rule A"] == 3 and "falco.rules.Rule B" not in f  # include_empty_values: false
    assert f["falco.rules.matches_total"] == 3
    assert "falco.memory_rss_mb" in f and "falco.cpu_usage_perc" in f
    assert json.loads(out.read_text().splitlines()[0])["falco.num_evts"] == 1000


def test_prometheus_text():
    cfg = load_config(None, ["metrics.enabled=true"])
    m = Metrics(cfg, rule_counts=lambda: {'Odd "name"': 2}, events=lambda: 7, drops=lambda: (7, 0))
    text = m.prometheus()
    lines = text.splitlines()
    assert lines[0].startswith('falcosecurity_falco_version_info{version="')
    assert "falcosecurity_falco_num_evts 7" in lines
    assert "falcosecurity_scap_n_drops 0" in lines
    assert 'falcosecurity_falco_rules_matches_total{rule_name="Odd \\"name\\""} 2' in lines
    assert all(" " in x for x in lines)


def test_bad_interval_is_a_located_config_error(tercel, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("engine:\n  kind: nodriver\nmetrics:\n  enabled: true\n  interval: 5 minutes\n")
    rules = tmp_path / "r.yaml"
    rules.write_text("- list: l\n  items: [a]\n")
    r = tercel("-c", str(cfg), "-r", str(rules), "-M", "1")
    assert r.returncode == 1
    assert f"{cfg}:5:13: key 'metrics.interval'" in r.stderr and "Traceback" not in r.stderr
