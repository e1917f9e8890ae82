"""Reading and validating the outputs part of falco.yaml (after -o overrides).

Every error is a ConfigError naming the key (``http_output.url: ...``). Keys follow Falco 0.44's
falco.yaml; tercel's extensions are the slack/email/webhook channels, per-channel ``min_priority``,
``queue_capacity``, ``max_retries``, ``retry_backoff``, ``timeout``, the syslog network options,
``throttling`` and ``output_max_size``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tercel.engine.priority import Priority


class ConfigError(ValueError):
    """A bad outputs configuration value; ``key`` is the dotted falco.yaml key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}

# keys every channel section accepts (tercel extensions except `enabled`)
COMMON_KEYS = frozenset(
    {"enabled", "min_priority", "queue_capacity", "max_retries", "retry_backoff", "timeout"}
)


class Section:
    """Typed, validated access to one mapping of the config; remembers which keys were read."""

    def __init__(self, data: Any, path: str, allowed: frozenset[str] | set[str] | None = None) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"expected a mapping, got {type(data).__name__}")
        self.data = data
        self.path = path
        if allowed is not None:
            for k in data:
                if k not in allowed:
                    names = ", ".join(sorted(allowed))
                    raise ConfigError(self.key(str(k)), f"unknown key (accepted: {names})")

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def has(self, k: str) -> bool:
        return self.data.get(k) is not None

    def get_bool(self, k: str, default: bool) -> bool:
        v = self.data.get(k)
        if v is None:
            return default
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            return v.strip().lower() in _TRUE
        raise ConfigError(self.key(k), f"expected true or false, got {v!r}")

    def get_str(self, k: str, default: str) -> str:
        v = self.data.get(k)
        if v is None:
            return default
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            return str(v)
        raise ConfigError(self.key(k), f"expected a string, got {type(v).__name__}")

    def get_int(self, k: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        v = self.data.get(k)
        if v is None:
            return default
        if isinstance(v, str):
            try:
                v = int(v.strip(), 0)
            except ValueError:
                raise ConfigError(self.key(k), f"expected an integer, got {v!r}") from None
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(self.key(k), f"expected an integer, got {v!r}")
        if minimum is not None and v < minimum:
            raise ConfigError(self.key(k), f"must be >= {minimum}, got {v}")
        if maximum is not None and v > maximum:
            raise ConfigError(self.key(k), f"must be <= {maximum}, got {v}")
        return v

    def get_float(self, k: str, default: float, *, minimum: float = 0.0) -> float:
        v = self.data.get(k)
        if v is None:
            return default
        if isinstance(v, str):
            try:
                v = float(v.strip())
            except ValueError:
                raise ConfigError(self.key(k), f"expected a number, got {v!r}") from None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(self.key(k), f"expected a number, got {v!r}")
        if v < minimum:
            raise ConfigError(self.key(k), f"must be >= {minimum}, got {v}")
        return float(v)

    def get_priority(self, k: str, default: Priority) -> Priority:
        v = self.data.get(k)
        if v is None:
            return default
        try:
            return Priority.parse(str(v))
        except ValueError as e:
            raise ConfigError(self.key(k), str(e)) from None

    def get_choice(self, k: str, default: str, choices: tuple[str, ...]) -> str:
        v = self.get_str(k, default).strip().lower()
        if v not in choices:
            raise ConfigError(self.key(k), f"expected one of {', '.join(choices)}, got {v!r}")
        return v

    def get_str_list(self, k: str, default: list[str]) -> list[str]:
        v = self.data.get(k)
        if v is None:
            return list(default)
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
            return [x.strip() for x in v if x.strip()]
        raise ConfigError(self.key(k), "expected a list of strings")

    def get_str_map(self, k: str) -> dict[str, str]:
        v = self.data.get(k)
        if v is None:
            return {}
        if not isinstance(v, Mapping):
            raise ConfigError(self.key(k), "expected a mapping of names to strings")
        out: dict[str, str] = {}
        for name, val in v.items():
            if not isinstance(name, str) or isinstance(val, (Mapping, list)) or val is None:
                raise ConfigError(self.key(f"{k}.{name}"), "expected a string value")
            sval = str(val)
            if any(c in name + sval for c in "\r\n\0"):
                raise ConfigError(
                    self.key(f"{k}.{name}"), "header names and values may not hold CR, LF or NUL"
                )
            out[name] = sval
        return out

    def sub(self, k: str, allowed: frozenset[str] | set[str] | None = None) -> Section:
        return Section(self.data.get(k), self.key(k), allowed)


def unquote_url(url: str) -> str:
    """Falco strips one pair of surrounding quotes from http_output.url."""
    url = url.strip()
    if len(url) >= 2 and url[0] == url[-1] and url[0] in "\"'":
        url = url[1:-1]
    return url


def check_url(sec: Section, k: str, url: str) -> str:
    if not url:
        raise ConfigError(sec.key(k), "is required when the channel is enabled")
    if not (url.startswith("http://") or url.startswith("https://")):
        raise ConfigError(sec.key(k), f"expected an http:// or https:// URL, got {url!r}")
    if any(c in url for c in "\r\n\0 "):
        raise ConfigError(sec.key(k), "URL may not contain spaces or control characters")
    return url
