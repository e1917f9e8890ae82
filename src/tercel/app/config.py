"""Configuration: falco.yaml-compatible files, ``config_files`` includes, ``${VAR}`` expansion,
``-o`` overrides, validation against the schema and typed access.

    cfg = load_config("/etc/tercel/tercel.yaml", overrides=["json_output=true"])
    cfg.get("file_output.filename"); cfg.json_output; cfg.rules_files; cfg.as_dict()

Every error is a :class:`ConfigError` naming the file, line and key (or the ``-o`` option).
Relative paths inside a config file (``config_files``, ``rules_files``) are taken relative to the
directory of the file that names them; ``-r`` and ``-o`` paths relative to the working directory.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

from tercel.app import overrides as ov
from tercel.app.config_schema import ANY, REMOVED_KEYS, SCHEMA, Map, Scalar, Seq, defaults
from tercel.app.yamlpos import KEY, Path, Pos, YamlLoadError, load_file
from tercel.engine.priority import Priority

SYSTEM_CONFIG = "/etc/tercel/tercel.yaml"
STRATEGIES = ("append", "override", "add-only")


class ConfigError(Exception):
    """A configuration problem; the message names the file, line and key."""


def builtin_config_path() -> str:
    return str(resources.files("tercel") / "data" / "tercel.yaml")


def builtin_rules_path() -> str:
    return str(resources.files("tercel") / "data" / "tercel_rules.yaml")


def default_config_path(explicit: str | None = None) -> str:
    """``-c PATH``, else /etc/tercel/tercel.yaml when it exists, else the built-in one."""
    if explicit:
        return explicit
    if os.path.isfile(SYSTEM_CONFIG):
        return SYSTEM_CONFIG
    return builtin_config_path()


@dataclass
class Config:
    data: dict[str, Any]
    files: list[str] = field(default_factory=list)  # config files loaded, in order
    warnings: list[str] = field(default_factory=list)
    positions: dict[Path, Pos] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return default
        return node

    def where(self, key: str) -> Pos | None:
        return self.positions.get(tuple(key.split(".")))

    def as_dict(self) -> dict[str, Any]:
        return self.data

    # typed access to the keys every layer reads
    @property
    def json_output(self) -> bool:
        return bool(self.data["json_output"])

    @property
    def rules_files(self) -> list[str]:
        return list(self.data["rules_files"])

    @property
    def min_priority(self) -> Priority:
        return Priority.parse(self.data["priority"])

    @property
    def rule_matching(self) -> str:
        return str(self.data["rule_matching"])

    @property
    def engine_kind(self) -> str:
        return str(self.data["engine"]["kind"])

    @property
    def replay_file(self) -> str:
        return str(self.data["engine"]["replay"]["capture_file"])

    @property
    def time_format_iso_8601(self) -> bool:
        return bool(self.data["time_format_iso_8601"])


# ---------------------------------------------------------------- loading


def load_config(path: str | None, overrides: Iterable[str] = (), *, env: dict[str, str] | None = None) -> Config:
    """Load ``path`` (or the default location), its ``config_files``, then apply ``-o`` overrides."""
    env = dict(os.environ) if env is None else env
    main = default_config_path(path)
    positions: dict[Path, Pos] = {}
    warnings: list[str] = []
    root, pos = _read(main)
    if root is None:
        root = {}
    if not isinstance(root, dict):
        raise ConfigError(f"{pos.get((), Pos(main))}: the configuration must be a YAML mapping")
    root = _expand_env(root, env)
    _absolutize(root, pos, FsPath(main).resolve().parent)
    positions.update(pos)
    files = [main]
    includes = root.get("config_files", [])
    if not isinstance(includes, list):
        raise ConfigError(f"{pos.get(('config_files',), Pos(main))}: key 'config_files': expected a list")
    for k, item in enumerate(includes):
        where = pos.get(("config_files", k), Pos(main))
        ipath, strategy = _include_entry(item, where)
        for fname in _expand_include(ipath):
            data, ipos = _read(fname)
            if data is None:
                files.append(fname)
                continue
            if not isinstance(data, dict):
                raise ConfigError(f"{ipos.get((), Pos(fname))}: an included configuration must be a YAML mapping")
            data = _expand_env(data, env)
            _absolutize(data, ipos, FsPath(fname).resolve().parent)
            if "config_files" in data:
                warnings.append(f"{ipos[('config_files',)]}: 'config_files' in an included file is ignored (no nesting)")
                data.pop("config_files")
            _merge(root, data, strategy, positions, ipos)
            files.append(fname)
    for text in overrides:
        try:
            parsed = ov.parse(text)
            if isinstance(parsed.value, str):
                parsed = ov.Override(parsed.text, parsed.path, _expand_str(parsed.value, env))
            written = ov.apply(root, parsed)
        except ov.OverrideError as exc:
            raise ConfigError(str(exc)) from None
        origin = Pos(f"command line option -o {text}")
        for p in list(positions):
            if p[: len(written)] == written:
                del positions[p]
        positions[written] = origin
        _mark_cli(root, written, positions, origin)
    data = _normalize(root, positions, warnings)
    return Config(data, files, warnings, positions)


def _read(path: str) -> tuple[Any, dict[Path, Pos]]:
    try:
        return load_file(path)
    except YamlLoadError as exc:
        raise ConfigError(str(exc)) from None


def _include_entry(item: Any, where: Pos) -> tuple[str, str]:
    if isinstance(item, str):
        return item, "append"
    if isinstance(item, dict):
        p = item.get("path")
        strategy = item.get("strategy", "append")
        if not isinstance(p, str) or not p:
            raise ConfigError(f"{where}: key 'config_files': each entry needs a 'path'")
        if strategy not in STRATEGIES:
            raise ConfigError(
                f"{where}: key 'config_files': unknown strategy '{strategy}' (expected one of: {', '.join(STRATEGIES)})"
            )
        return p, str(strategy)
    raise ConfigError(f"{where}: key 'config_files': entries are a path or {{path, strategy}}")


def _expand_include(path: str) -> list[str]:
    if os.path.isdir(path):
        return sorted(
            os.path.join(path, n) for n in os.listdir(path) if os.path.isfile(os.path.join(path, n))
        )
    if os.path.isfile(path):
        return [path]
    return []  # a missing include (e.g. the default /etc/tercel/config.d) is not an error, as in Falco


def _merge(root: dict[str, Any], data: dict[str, Any], strategy: str, positions: dict[Path, Pos],
           ipos: dict[Path, Pos]) -> None:
    """Falco's strategies work on top-level keys: append (lists appended, everything else replaced),
    override (replaced), add-only (only keys not present yet)."""
    for key, value in data.items():
        present = key in root
        if strategy == "add-only" and present:
            continue
        if strategy == "append" and present and isinstance(root[key], list) and isinstance(value, list):
            base = len(root[key])
            root[key].extend(value)
            for p, pos in ipos.items():
                if p[:1] == (key,) and len(p) > 1 and isinstance(p[1], int):
                    positions[(key, p[1] + base, *p[2:])] = pos
            continue
        root[key] = value
        for p in [p for p in positions if p[:1] == (key,) or p[:2] == (KEY, key)]:
            del positions[p]
        for p, pos in ipos.items():
            if p[:1] == (key,) or p[:2] == (KEY, key):
                positions[p] = pos


_ENV = re.compile(r"\$(\$?)\{([^}]*)\}")


def _expand_str(text: str, env: dict[str, str]) -> str:
    if "${" not in text:
        return text
    # "$${X}" is an escaped literal "${X}"; an unset variable expands to "" (Falco's yaml_helper)
    return _ENV.sub(lambda m: "${" + m.group(2) + "}" if m.group(1) else env.get(m.group(2), ""), text)


def _expand_env(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _expand_str(value, env)
    if isinstance(value, dict):
        return {k: _expand_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, env) for v in value]
    return value


def _absolutize(data: dict[str, Any], pos: dict[Path, Pos], base: FsPath) -> None:
    """Relative paths in a config file are relative to that file's directory."""
    for key in ("config_files", "rules_files", "rules_file", "rule_files"):
        val = data.get(key)
        if isinstance(val, str):
            val = data[key] = [val]
            if (key,) in pos:
                pos[(key, 0)] = pos[(key,)]
        if not isinstance(val, list):
            continue
        for i, item in enumerate(val):
            if isinstance(item, str) and item and not os.path.isabs(item):
                val[i] = str(base / item)
            elif isinstance(item, dict) and isinstance(item.get("path"), str) and not os.path.isabs(item["path"]):
                item["path"] = str(base / item["path"])


def _mark_cli(root: Any, path: tuple[Any, ...], positions: dict[Path, Pos], origin: Pos) -> None:
    node = root
    for p in path:
        node = node[p]
    if isinstance(node, (dict, list)):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, _ in items:
            positions[(*path, k)] = origin


# ---------------------------------------------------------------- validation


_TRUE = {"true", "yes", "on", "y"}
_FALSE = {"false", "no", "off", "n"}
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w|y)?\s*$")


class _Invalid(Exception):
    pass


def _coerce_scalar(spec: Scalar, value: Any) -> Any:
    kind = spec.kind
    if kind == "any":
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Invalid(f"expected a boolean (true/false), got {_show(value)}")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip(), 0)
            except ValueError:
                pass
        raise _Invalid(f"expected an integer, got {_show(value)}")
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise _Invalid(f"expected a number, got {_show(value)}")
    if kind == "duration":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and _DURATION.match(value):
            return value.strip()
        raise _Invalid(f"expected a duration like 5000, 30s, 1h, got {_show(value)}")
    if kind == "priority":
        try:
            Priority.parse(str(value))
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
        return str(value).strip().lower()
    # str
    if isinstance(value, (dict, list)):
        raise _Invalid(f"expected a string, got {'a mapping' if isinstance(value, dict) else 'a list'}")
    if value is None:
        raise _Invalid("expected a string, got nothing")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if spec.choices and text not in spec.choices:
        raise _Invalid(f"unknown value {text!r} (expected one of: {', '.join(spec.choices)})")
    return text


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def _parse_text(value: Any) -> Any:
    """A value from -o is text; for list, map and free-form keys read it as YAML (``[a, b]``)."""
    if isinstance(value, str):
        import yaml

        try:
            return yaml.safe_load(value) if value.strip() else value
        except yaml.YAMLError:
            return value
    return value


class _Validator:
    def __init__(self, positions: dict[Path, Pos], warnings: list[str]) -> None:
        self.positions = positions
        self.warnings = warnings

    def where(self, path: Path) -> str:
        for k in range(len(path), -1, -1):
            pos = self.positions.get(path[:k])
            if pos is not None:
                return str(pos)
        return "configuration"

    def fail(self, path: Path, message: str) -> ConfigError:
        return ConfigError(f"{self.where(path)}: key '{_dotted(path)}': {message}")

    def check(self, spec: Any, value: Any, path: Path) -> Any:
        from_cli = str(self.positions.get(path, "")).startswith("command line")
        if isinstance(spec, Map):
            if from_cli:
                value = _parse_text(value)
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise self.fail(path, f"expected a mapping, got {_show(value)}")
            out = defaults(spec)
            for key, sub in value.items():
                if not path and key in REMOVED_KEYS:
                    at = self.positions.get((KEY, key)) or self.where((key,))
                    self.warnings.append(f"{at}: key '{key}' has no effect: {REMOVED_KEYS[key]}")
                    out.pop(key, None)
                    continue
                sp = spec.fields.get(key)
                if sp is None:
                    if not spec.open:
                        at = self.positions.get((KEY, *path, key)) or self.where((*path, key))
                        self.warnings.append(f"{at}: unknown configuration key '{_dotted((*path, key))}'")
                    out[key] = sub
                    continue
                out[key] = self.check(sp, sub, (*path, key))
            return out
        if isinstance(spec, Seq):
            if from_cli or (isinstance(value, str) and spec.item is not None and isinstance(spec.item, Scalar)):
                parsed = _parse_text(value) if from_cli else value
                value = parsed if isinstance(parsed, list) else [parsed]
            if value is None:
                return []
            if not isinstance(value, list):
                raise self.fail(path, f"expected a list, got {_show(value)}")
            if spec.item is None:
                return value
            return [self.check(spec.item, v, (*path, i)) for i, v in enumerate(value)]
        if spec is ANY:
            return _parse_text(value) if from_cli else value
        try:
            return _coerce_scalar(spec, value)
        except _Invalid as exc:
            raise self.fail(path, str(exc)) from None


def _dotted(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _normalize(root: dict[str, Any], positions: dict[Path, Pos], warnings: list[str]) -> dict[str, Any]:
    root = copy.deepcopy(root)
    # rules_file / rule_files are aliases of rules_files (the first present wins, as in Falco)
    for alias in ("rules_file", "rule_files"):
        if alias in root:
            if "rules_files" not in root:
                root["rules_files"] = root[alias]
                for p in [p for p in positions if p[:1] == (alias,)]:
                    positions[("rules_files", *p[1:])] = positions[p]
            warnings.append(f"{positions.get((alias,), Pos('configuration'))}: '{alias}' is deprecated, use 'rules_files'")
            del root[alias]
    data = _Validator(positions, warnings).check(SCHEMA, root, ())
    for alias in ("rules_file", "rule_files"):
        data.pop(alias, None)
    for k, sel in enumerate(data.get("rules", [])):
        ops = [op for op in ("enable", "disable") if op in sel]
        if len(ops) != 1:
            raise ConfigError(f"{positions.get(('rules', k), Pos('configuration'))}: key 'rules[{k}]': "
                              "each entry is exactly one of 'enable:' or 'disable:'")
        target = sel[ops[0]]
        if not (target.get("rule") or target.get("tag")):
            raise ConfigError(f"{positions.get(('rules', k), Pos('configuration'))}: key 'rules[{k}].{ops[0]}': "
                              "needs 'rule' or 'tag'")
    return data
