"""Delivery semantics: isolation of a hanging channel, retries, drops, throttling, shutdown, config errors."""

from __future__ import annotations

import logging
import time

import pytest
from outputs_support import free_port, make_alert, wait_until

from tercel.engine.priority import Priority
from tercel.outputs import ConfigError, Dispatcher, format_text


def _text(a):
    return format_text(a, iso8601=True)


def test_hanging_channel_delays_nobody(http_server, tmp_path, caplog):
    """A server that holds every request for 30 s: submit stays instant, the other channels get their
    alerts at once, the watchdog warns, and shutdown respects its deadline."""
    hang = http_server(hang_s=30)
    ok = http_server()
    path = tmp_path / "events.txt"
    cfg = {
        "time_format_iso_8601": True,
        "output_timeout": 200,
        "http_output": {"enabled": True, "url": hang.url, "timeout": 30},
        "webhook_output": {"enabled": True, "url": ok.url},
        "file_output": {"enabled": True, "filename": str(path), "keep_alive": True},
    }
    caplog.set_level(logging.WARNING, logger="tercel.outputs")
    d = Dispatcher.from_config(cfg, hostname="h")
    alerts = [make_alert(message=f"n={i}") for i in range(20)]
    t0 = time.monotonic()
    for a in alerts:
        d.submit(a)
    assert time.monotonic() - t0 < 0.1  # the engine never waits
    assert ok.wait_for(20, timeout=2.0)
    assert wait_until(lambda: d.stats()["channels"]["file"]["sent"] == 20, timeout=2.0)
    assert time.monotonic() - t0 < 2.0
    assert path.read_bytes() == "".join(_text(a) + "\n" for a in alerts).encode()
    assert wait_until(
        lambda: any("http blocked for more than 200 ms" in r.message for r in caplog.records), 2.0
    )
    assert wait_until(lambda: d.stats()["channels"]["webhook"]["sent"] == 20, timeout=1.0)
    assert d.stats()["channels"]["http"]["sent"] == 0
    t1 = time.monotonic()
    assert d.close(0.5) is False  # the hanging channel could not flush
    assert time.monotonic() - t1 < 1.5
    st = d.stats()["channels"]["http"]
    assert st["sent"] == 0 and st["dropped"] == 19  # one stuck in flight, the queued rest given up
    # the fixture tears the hanging server down


def test_retries_until_the_server_comes_back(http_server):
    port = free_port()  # nothing listens yet: connection refused
    cfg = {"http_output": {"enabled": True, "url": f"http://127.0.0.1:{port}/alerts", "retry_backoff": 0.05,
                           "max_retries": 50}}  # fmt: skip
    d = Dispatcher.from_config({"time_format_iso_8601": True, **cfg}, hostname="h")
    alerts = [make_alert(message=f"n={i}") for i in range(3)]
    for a in alerts:
        d.submit(a)
    assert wait_until(lambda: d.stats()["channels"]["http"]["retries"] >= 2)
    srv = http_server(port=port)
    assert srv.wait_for(3)
    assert [r.body for r in srv.requests] == [_text(a).encode() for a in alerts]  # order kept
    assert d.close(2)
    st = d.stats()["channels"]["http"]
    assert st["sent"] == 3 and st["failed"] == 0 and st["retries"] >= 2


def test_5xx_retried_4xx_failed(http_server):
    srv = http_server(fail_next=2)
    d = Dispatcher.from_config({"http_output": {"enabled": True, "url": srv.url, "retry_backoff": 0.01}})
    d.submit(make_alert())
    assert srv.wait_for(1)
    assert d.close(2)
    assert d.stats()["channels"]["http"] | {"pending": 0} == {
        "sent": 1, "dropped": 0, "failed": 0, "suppressed": 0, "filtered": 0, "retries": 2, "pending": 0,
    }  # fmt: skip

    bad = http_server(status=400)
    d = Dispatcher.from_config({"http_output": {"enabled": True, "url": bad.url, "retry_backoff": 0.01}})
    d.submit(make_alert())
    assert wait_until(lambda: d.stats()["channels"]["http"]["failed"] == 1)
    assert d.stats()["channels"]["http"]["retries"] == 0
    d.close(1)


def test_gives_up_after_max_retries(tmp_path):
    cfg = {"syslog_output": {"enabled": True, "address": str(tmp_path / "nosuch"), "retry_backoff": 0.01}}
    d = Dispatcher.from_config(cfg)
    d.submit(make_alert())
    assert wait_until(lambda: d.stats()["channels"]["syslog"]["failed"] == 1)
    assert d.stats()["channels"]["syslog"]["retries"] == 3
    d.close(1)


def test_channel_queue_overflow_is_counted(http_server):
    hang = http_server(hang_s=30)
    cfg = {"http_output": {"enabled": True, "url": hang.url, "timeout": 30, "queue_capacity": 5}}
    d = Dispatcher.from_config(cfg)
    d.submit(make_alert())
    worker = d._workers[0]
    assert wait_until(lambda: worker.busy_since is not None)
    for _ in range(19):
        d.submit(make_alert())
    assert wait_until(lambda: d.stats()["queue"]["received"] == 20)
    st = d.stats()["channels"]["http"]
    assert st["pending"] == 5 and st["dropped"] == 14
    d.close(0.2)


def test_shared_queue_overflow_is_counted(tmp_path):
    cfg = {
        "outputs_queue": {"capacity": 10},
        "output_max_size": 0,  # no cap: the huge alert below is escaped in full (slowly)
        "file_output": {"enabled": True, "filename": str(tmp_path / "f")},
    }
    d = Dispatcher.from_config(cfg)
    # a huge hostile alert keeps the dispatcher thread busy escaping it for a while
    d.submit(make_alert(message="\n" * 3_000_000, fields={}))
    assert wait_until(lambda: d._q.qsize() == 0)
    t0 = time.monotonic()
    for _ in range(100):
        d.submit(make_alert())
    assert time.monotonic() - t0 < 0.1
    assert d.stats()["queue"]["dropped"] == 90
    assert d.close(10)
    assert d.stats()["queue"]["received"] == 11
    assert d.stats()["channels"]["file"]["sent"] == 11


def test_throttling_dedup_and_rate(tmp_path):
    path = tmp_path / "f"
    cfg = {
        "time_format_iso_8601": True,
        "file_output": {"enabled": True, "filename": str(path)},
        "stdout_output": {"enabled": True, "min_priority": "critical"},
        "throttling": {
            "enabled": True,
            "dedup_window": 60,
            "rate": 0.001,
            "max_burst": 3,
            "rules": {"Chatty but allowed": {"rate": 1000, "max_burst": 100}},
        },
    }
    with open(tmp_path / "stdout", "wb") as out:
        d = Dispatcher.from_config(cfg, stdout=out)
        same = make_alert(rule="Dup", message="same")
        for _ in range(10):
            d.submit(same)  # 1 passes, 9 duplicates
        for i in range(10):
            d.submit(make_alert(rule="Rate", message=f"n={i}"))  # burst of 3, then rate-limited
        for i in range(50):
            d.submit(make_alert(rule="Chatty but allowed", message=f"n={i}"))
        assert d.close(5)
    st = d.stats()
    assert st["throttling"] == {
        "suppressed": 16,
        "deduplicated": 9,
        "rate_limited": 7,
        "by_rule": {"Dup": 9, "Rate": 7},
    }
    assert st["channels"]["file"]["sent"] == 1 + 3 + 50 and st["channels"]["file"]["suppressed"] == 16
    assert st["channels"]["stdout"]["suppressed"] == 0  # those alerts were below its min_priority anyway
    lines = path.read_text().splitlines()
    assert lines[0] == _text(same) and lines[1:4] == [
        _text(make_alert(rule="Rate", message=f"n={i}")) for i in range(3)
    ]


def test_global_priority_and_close_flushes(tmp_path):
    path = tmp_path / "f"
    d = Dispatcher.from_config(
        {"priority": "warning", "file_output": {"enabled": True, "filename": str(path)}}
    )
    for i in range(2000):
        d.submit(make_alert(message=f"n={i}", priority=Priority.NOTICE if i % 2 else Priority.WARNING))
    assert d.close(10)  # everything queued is written before close returns
    assert len(path.read_text().splitlines()) == 1000
    d.submit(make_alert())  # after close: dropped, never blocks
    assert d.stats()["queue"]["dropped"] == 1


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        ({"http_output": {"enabled": True}}, "http_output.url"),
        ({"http_output": {"enabled": True, "url": "ftp://x"}}, "http_output.url"),
        (
            {
                "http_output": {
                    "enabled": True,
                    "url": "http://x",
                    "mtls": True,
                    "client_cert": "/nonexistent",
                }
            },
            "http_output.client_cert",
        ),  # fmt: skip
        ({"stdout_output": {"enabled": "maybe"}}, "stdout_output.enabled"),
        ({"stdout_output": [1]}, "stdout_output"),
        ({"stdout_output": {"enabled": True, "min_priority": "loud"}}, "stdout_output.min_priority"),
        ({"file_output": {"enabled": True}}, "file_output.filename"),
        ({"file_output": {"enabled": True, "filename": "x", "rotate": 1}}, "file_output.rotate"),
        ({"outputs_queue": {"capacity": -1}}, "outputs_queue.capacity"),
        ({"output_timeout": "soon"}, "output_timeout"),
        ({"priority": "loud"}, "priority"),
        ({"output_max_size": 10}, "output_max_size"),
        ({"program_output": {"enabled": True, "program": "echo 'unterminated"}}, "program_output.program"),
        ({"syslog_output": {"enabled": True, "facility": "nope"}}, "syslog_output.facility"),
        ({"syslog_output": {"enabled": True, "host": "127.0.0.1", "port": 70000}}, "syslog_output.port"),
        (
            {"webhook_output": {"enabled": True, "url": "http://x", "headers": {"X": "a\r\nB: c"}}},
            "webhook_output.headers.X",
        ),  # fmt: skip
        (
            {"webhook_output": {"enabled": True, "url": "http://x", "method": "delete"}},
            "webhook_output.method",
        ),
        ({"slack_output": {"enabled": True, "webhook_url": "http://x", "colour": 1}}, "slack_output.colour"),
        (
            {"slack_output": {"enabled": True, "webhook_url": "http://x", "output_format": "x"}},
            "slack_output.output_format",
        ),  # fmt: skip
        ({"email_output": {"enabled": True, "host": "h", "from": "a@b", "to": []}}, "email_output.to"),
        (
            {"email_output": {"enabled": True, "host": "h", "from": "nobody", "to": "a@b"}},
            "email_output.from",
        ),
        (
            {"email_output": {"enabled": True, "host": "h", "from": "a@b", "to": "c@d", "subject": "{nope}"}},
            "email_output.subject",
        ),  # fmt: skip
        ({"throttling": {"rate": "fast"}}, "throttling.rate"),
        ({"throttling": {"rules": {"R": {"burst": 1}}}}, "throttling.rules.R.burst"),
    ],
)
def test_config_errors_name_the_key(cfg, key):
    with pytest.raises(ConfigError) as e:
        Dispatcher.from_config(cfg)
    assert e.value.key == key
    assert str(e.value).startswith(f"{key}: ")


def test_defaults_and_hostname(monkeypatch):
    d = Dispatcher.from_config({})
    assert d.channel_names == []  # Falco's code defaults: no channel without config
    d.close(1)
    monkeypatch.setenv("FALCO_HOSTNAME", "falco-host")
    monkeypatch.delenv("TERCEL_HOSTNAME", raising=False)
    d = Dispatcher.from_config({})
    assert d.config.json_options.hostname == "falco-host"
    d.close(1)
    monkeypatch.setenv("TERCEL_HOSTNAME", "tercel-host")
    d = Dispatcher.from_config({})
    assert d.config.json_options.hostname == "tercel-host"
    d.close(1)
