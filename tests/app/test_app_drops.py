"""syscall_event_drops: Falco's once-a-second drop check, threshold, token bucket and actions."""

from __future__ import annotations

from types import SimpleNamespace

from tercel.app.config import load_config
from tercel.app.drops import RULE, DropMonitor


class Sink:
    def __init__(self):
        self.alerts = []

    def submit(self, alert):
        self.alerts.append(alert)


def counters(sent, dropped):
    return SimpleNamespace(sent=sent, dropped=dropped)


def test_drops_detected_and_alerted():
    cfg = load_config(None)  # the built-in config: threshold .1, actions [log, alert], 1 per 30 s
    sink = Sink()
    m = DropMonitor(cfg, sink)
    m.tick(counters(1000, 0), now=m.next_check)          # first sample
    m.tick(counters(2000, 0), now=m.next_check)          # no drop
    m.tick(counters(2500, 500), now=m.next_check)        # 50% dropped: log + alert
    m.tick(counters(3000, 600), now=m.next_check)        # drops again, but the bucket is empty
    assert m.detected == 2 and m.actions_taken == 1
    assert len(sink.alerts) == 1
    a = sink.alerts[0]
    assert a.rule == RULE and a.source == "internal" and a.priority.name == "DEBUG"
    assert a.message == f"{RULE}. 500 system calls dropped in last second."
    assert m.summary() == ("Syscall event drop monitoring:\n   - event drop detected: 2 occurrences\n"
                           "   - num times actions taken: 1\n")


def test_threshold_and_exit():
    cfg = load_config(None, ["syscall_event_drops.threshold=0.5", "syscall_event_drops.actions=[exit]"])
    m = DropMonitor(cfg, Sink())
    m.tick(counters(0, 0), now=m.next_check)
    m.tick(counters(1000, 100), now=m.next_check)  # 9% < 50%: counted, no action
    assert m.detected == 1 and not m.exit_requested
    m.tick(counters(1100, 1000), now=m.next_check)
    assert m.exit_requested and m.actions_taken == 1
