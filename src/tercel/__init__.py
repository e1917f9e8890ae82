"""tercel: runtime security engine for Linux hosts and containers (eBPF capture, Falco-compatible rules)."""

__version__ = "0.1.0"
# The Falco engine version whose rule files we accept (required_engine_version is checked against it).
ENGINE_VERSION = "0.63.0"
