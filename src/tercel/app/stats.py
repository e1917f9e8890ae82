"""Alert counters and Falco's end-of-run summary (``falco_engine::print_stats``)::

    Events detected: 3
    Rule counts by severity:
       WARNING: 2
       INFO: 1
    Triggered rules by rule name:
       Read sensitive file untrusted: 2
       Some informational rule: 1

Severities print in priority order (most severe first) with Falco's short names, rules in
definition order; zero counts are left out."""

from __future__ import annotations

from collections import Counter

from tercel.engine.alert import Alert
from tercel.engine.priority import Priority


def short_name(p: Priority) -> str:
    return "INFO" if p is Priority.INFORMATIONAL else p.name


class AlertStats:
    def __init__(self, rule_order: list[str] | None = None) -> None:
        self.total = 0
        self.by_priority: Counter[Priority] = Counter()
        self.by_rule: Counter[str] = Counter()
        self._order = {name: i for i, name in enumerate(rule_order or [])}

    def add(self, alert: Alert) -> None:
        self.total += 1
        self.by_priority[alert.priority] += 1
        self.by_rule[alert.rule] += 1

    def format(self) -> str:
        out = [f"Events detected: {self.total}\n", "Rule counts by severity:\n"]
        for p in sorted(self.by_priority):
            if self.by_priority[p]:
                out.append(f"   {short_name(p)}: {self.by_priority[p]}\n")
        out.append("Triggered rules by rule name:\n")
        big = len(self._order)
        first_seen = {name: i for i, name in enumerate(self.by_rule)}
        for name in sorted(self.by_rule, key=lambda n: (self._order.get(n, big), first_seen[n])):
            out.append(f"   {name}: {self.by_rule[name]}\n")
        return "".join(out)
