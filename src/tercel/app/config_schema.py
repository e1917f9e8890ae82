"""The configuration keys tercel knows (Falco's falco.yaml keys plus tercel's extensions), their types
and the defaults used when a key is absent (Falco's code defaults, see docs/architecture.md).

A spec is one of:
  ``Scalar(kind, default, choices)``  kind in bool, int, float, str, duration, priority
  ``Seq(item, default)``              a list; ``item`` is a spec or None (anything)
  ``Map(fields, open)``               a mapping with known fields; ``open`` maps accept any other key
  ``ANY``                             anything (validated by the layer that uses it)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Scalar:
    kind: str
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Seq:
    item: Any = None
    default: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Map:
    fields: dict[str, Any] = field(default_factory=dict)
    open: bool = False  # extra keys are fine (owned by another layer, or free-form)
    fill: bool = True  # absent fields get their defaults (False for "one of these keys" maps)


ANY = Scalar("any")

def B(d: Any) -> Scalar:
    return Scalar("bool", d)


def I(d: Any) -> Scalar:  # noqa: E743
    return Scalar("int", d)


def S(d: Any) -> Scalar:
    return Scalar("str", d)

LOG_LEVELS = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "informational", "debug")
ENGINE_KINDS = ("kmod", "modern_ebpf", "ebpf", "replay", "nodriver", "gvisor")

_selector = Map({"rule": S(None), "tag": S(None)}, fill=False)

SCHEMA = Map(
    {
        "config_files": Seq(None, ()),
        "watch_config_files": B(True),
        "rules_files": Seq(S(""), ()),
        "rules_file": Seq(S(""), ()),  # deprecated alias (before 0.38)
        "rule_files": Seq(S(""), ()),  # also accepted by Falco's schema
        "rules": Seq(Map({"enable": _selector, "disable": _selector}, fill=False), ()),
        "engine": Map(
            {
                "kind": Scalar("str", "modern_ebpf", ENGINE_KINDS),
                "kmod": Map({"buf_size_preset": I(4), "drop_failed_exit": B(False)}),
                "modern_ebpf": Map(
                    {
                        "cpus_for_each_buffer": I(2),
                        "buf_size_preset": I(4),
                        "drop_failed_exit": B(False),
                        "disable_iterators": B(False),
                    }
                ),
                "ebpf": Map({"probe": S(""), "buf_size_preset": I(4), "drop_failed_exit": B(False)}, open=True),
                "replay": Map({"capture_file": S("")}),
                "gvisor": Map({"config": S(""), "root": S("")}, open=True),
            }
        ),
        "capture": Map(
            {
                "enabled": B(False),
                "path_prefix": S("/tmp/tercel"),
                "mode": Scalar("str", "rules", ("rules", "all_rules")),
                "default_duration": I(5000),
                "max_file_size_mb": I(0),
            }
        ),
        "load_plugins": Seq(S(""), ()),
        "plugins": Seq(Map({"name": S(""), "library_path": S(""), "init_config": ANY, "open_params": ANY}), ()),
        "plugins_hostinfo": B(True),
        "time_format_iso_8601": B(False),
        "buffer_format_base64": B(False),
        "priority": Scalar("priority", "debug"),
        "json_output": B(False),
        "json_include_output_property": B(True),
        "json_include_message_property": B(False),
        "json_include_output_fields_property": B(True),
        "json_include_tags_property": B(True),
        "buffered_outputs": B(False),
        "rule_matching": Scalar("str", "first", ("first", "all")),
        "outputs_queue": Map({"capacity": I(0)}),
        "append_output": Seq(None, ()),
        "static_fields": Map({}, open=True),
        "output_max_size": I(None),  # tercel: cap on one alert's size (absent: the outputs' default)
        "stdout_output": Map({"enabled": B(False)}, open=True),  # open: per-channel extension keys
        "syslog_output": Map({"enabled": B(False)}, open=True),  # remote syslog: outputs' extension
        "file_output": Map({"enabled": B(False), "keep_alive": B(False), "filename": S("")}, open=True),
        "http_output": Map(
            {
                "enabled": B(False),
                "url": S(""),
                "user_agent": S("falcosecurity/falco"),
                "insecure": B(False),
                "ca_cert": S(""),
                "ca_bundle": S(""),
                "ca_path": S("/etc/ssl/certs"),
                "mtls": B(False),
                "client_cert": S("/etc/ssl/certs/client.crt"),
                "client_key": S("/etc/ssl/certs/client.key"),
                "echo": B(False),
                "compress_uploads": B(False),
                "keep_alive": B(False),
                "max_consecutive_timeouts": I(5),
            },
            open=True,
        ),
        "program_output": Map({"enabled": B(False), "keep_alive": B(False), "program": S("")}, open=True),
        # tercel's own notification channels and throttling: keys validated by tercel.outputs
        "slack_output": Map({"enabled": B(False)}, open=True),
        "email_output": Map({"enabled": B(False)}, open=True),
        "webhook_output": Map({"enabled": B(False)}, open=True),
        "throttling": Map({}, open=True),
        "webserver": Map(
            {
                "enabled": B(False),
                "threadiness": I(0),
                "listen_port": I(8765),
                "listen_address": S("0.0.0.0"),
                "k8s_healthz_endpoint": S("/healthz"),
                "prometheus_metrics_enabled": B(False),
                "ssl_enabled": B(False),
                "ssl_certificate": S("/etc/tercel/tercel.pem"),
            }
        ),
        "log_stderr": B(False),
        "log_syslog": B(True),
        "log_level": Scalar("str", "info", LOG_LEVELS),
        "libs_logger": Map({"enabled": B(False), "severity": Scalar("str", "debug", LOG_LEVELS + ("fatal", "trace"))}),
        "output_timeout": I(2000),
        "syscall_event_timeouts": Map({"max_consecutives": I(1000)}),
        "syscall_event_drops": Map(
            {
                "threshold": Scalar("float", 0.1),
                "actions": Seq(Scalar("str", None, ("ignore", "log", "alert", "exit")), ("log", "alert")),
                "rate": Scalar("float", 0.03333),
                "max_burst": I(1),
                "simulate_drops": B(False),
            }
        ),
        "metrics": Map(
            {
                "enabled": B(False),
                "interval": Scalar("duration", "5000"),
                "output_rule": B(False),
                "output_file": S(""),
                "rules_counters_enabled": B(True),
                "resource_utilization_enabled": B(True),
                "state_counters_enabled": B(True),
                "kernel_event_counters_enabled": B(True),
                "kernel_event_counters_per_cpu_enabled": B(False),
                "libbpf_stats_enabled": B(True),
                "plugins_metrics_enabled": B(True),
                "kernel_iter_event_counters_enabled": B(True),
                "jemalloc_stats_enabled": B(False),
                "convert_memory_to_mb": B(True),
                "include_empty_values": B(False),
            }
        ),
        "base_syscalls": Map({"custom_set": Seq(S(""), ()), "repair": B(False), "all": B(False)}),
        "falco_libs": Map(
            {
                "thread_table_size": I(262144),
                "thread_table_auto_purging_interval_s": I(300),
                "thread_table_auto_purging_thread_timeout_s": I(300),
                "snaplen": I(80),
            }
        ),
    }
)

# Keys Falco removed: loading them warns that they have no effect.
REMOVED_KEYS = {
    "grpc": "removed in Falco 0.44 (gRPC output and server)",
    "grpc_output": "removed in Falco 0.44 (gRPC output and server)",
    "outputs": "removed from Falco (the alert token bucket); see the throttling extension",
    "container_engines": "replaced by the container plugin in Falco 0.40",
    "syscall_buf_size_preset": "replaced by engine.<kind>.buf_size_preset in Falco 0.38",
    "modern_bpf": "replaced by engine.modern_ebpf in Falco 0.38",
}


def defaults(spec: Any = SCHEMA) -> Any:
    """The value the code uses when a key is absent."""
    if isinstance(spec, Map):
        if not spec.fill:
            return {}
        return {k: defaults(v) for k, v in spec.fields.items() if not (isinstance(v, Scalar) and v.default is None)}
    if isinstance(spec, Seq):
        return list(spec.default)
    return spec.default
