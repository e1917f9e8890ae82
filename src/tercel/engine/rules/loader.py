"""Loading rule files the way Falco's engine does: one shared collector, each file read then the
whole collection compiled, one :class:`LoadResult` per file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import tercel
from tercel.engine.priority import Priority
from tercel.engine.rules.collector import Collector
from tercel.engine.rules.compiler import CompileOutput, Compiler
from tercel.engine.rules.model import Version, parse_version
from tercel.engine.rules.reader import ReadConfig, Reader
from tercel.engine.rules.results import Context, ErrorCode, LoadResult
from tercel.engine.rules.ruleset import Ruleset, Selector
from tercel.fields import registry

# tercel's built-in equivalent of Falco's container plugin.
BUILTIN_PLUGINS: dict[str, str] = {"container": "0.7.1"}
KNOWN_SOURCES = frozenset({"syscall"})


def _field_defined(name: str) -> bool:
    return registry.resolve(name.split("[", 1)[0]) is not None


def rule_files(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files to read, in order: a directory gives its ``.yaml``/``.yml`` files in alphabetical order."""
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(str(path / c.name) for c in sorted(path.iterdir(), key=lambda c: c.name)
                       if c.is_file() and c.suffix in (".yaml", ".yml"))
        else:
            out.append(str(p))
    return out


class RuleLoader:
    """Accumulates rule files; after each, the whole collection is compiled (as Falco does)."""

    def __init__(self, *, engine_version: str = tercel.ENGINE_VERSION, sources: frozenset[str] = KNOWN_SOURCES,
                 plugins: dict[str, str] | None = None) -> None:
        version = parse_version(engine_version)
        assert version is not None, engine_version
        self.engine_version: Version = version
        self.collector = Collector(version, sources, _field_defined)
        self.reader = Reader(self.collector)
        self.plugins = dict(BUILTIN_PLUGINS if plugins is None else plugins)
        self.contents: dict[str, str] = {}
        self.compiled: CompileOutput | None = None
        self._plugins_checked = 0

    def load_content(self, content: str, name: str) -> LoadResult:
        res = LoadResult(name, self.contents)
        self.contents[name] = content
        self.collector.res = res
        if not self.reader.read(ReadConfig(name, content, res)):
            return res
        out = Compiler(self.collector, res).compile()
        if out is not None:
            self.compiled = out
        self._check_plugins(res)
        return res

    def _check_plugins(self, res: LoadResult) -> None:
        reqs = self.collector.required_plugin_versions
        pending = reqs[self._plugins_checked:]
        self._plugins_checked = len(reqs)
        for alts, ctx in self.collector.unsatisfied_plugins(self.plugins, pending):
            wanted = ", ".join(f"{a.name} (>= {a.version})" for a in alts)
            res.add_error(ErrorCode.LOAD_ERR_VALIDATE, f"Plugin requirement not satisfied, must load one of: {wanted}",
                          ctx)

    def load_file(self, path: str) -> LoadResult:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            res = LoadResult(path, self.contents)
            res.add_error(ErrorCode.LOAD_ERR_FILE_READ, f"Could not open file {path} for reading: {e.strerror}",
                          Context.of_file(path))
            return res
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            res = LoadResult(path, self.contents)
            good = data[: e.start].decode("utf-8", "replace")
            self.contents[path] = data.decode("utf-8", "replace")  # for the snippet; offsets of `good` hold
            line = good.count("\n")
            col = len(good) - (good.rfind("\n") + 1)
            res.add_error(ErrorCode.LOAD_ERR_YAML_PARSE,
                          f"invalid UTF-8 byte 0x{data[e.start]:02x} at byte offset {e.start}",
                          Context.of_file(path).child("value for", "", line, col, len(good)))
            return res
        return self.load_content(text, path)

    def ruleset(self, *, min_priority: Priority | str = Priority.DEBUG, rule_matching: str = "first",
                hostname: str | None = None, selectors: Sequence[Selector | dict[str, Any]] = ()) -> Ruleset:
        prio = Priority.parse(min_priority) if isinstance(min_priority, str) else min_priority
        comp = self.compiled
        rev = self.collector.required_engine_version
        rs = Ruleset(comp.rules if comp else (), compiled=comp, min_priority=prio, rule_matching=rule_matching,
                     hostname=hostname, required_engine_version=str(rev[0]) if rev else None,
                     required_plugin_versions=[[(a.name, a.version) for a in i.alternatives]
                                               for i in self.collector.required_plugin_versions])
        rs.apply_selectors(selectors)
        return rs


def load_rules(paths: Iterable[str | os.PathLike[str]], *, min_priority: Priority | str = Priority.DEBUG,
               selectors: Sequence[Selector | dict[str, Any]] = (), rule_matching: str = "first",
               hostname: str | None = None, plugins: dict[str, str] | None = None) -> tuple[Ruleset, list[LoadResult]]:
    """Load rule files/directories in order, as ``falco -r`` does. Stops at the first file with errors
    (the returned Ruleset is then empty); check ``all(r.successful for r in results)``."""
    loader = RuleLoader(plugins=plugins)
    results: list[LoadResult] = []
    for f in rule_files(paths):
        res = loader.load_file(f)
        results.append(res)
        if not res.successful:
            return Ruleset((), hostname=hostname, rule_matching=rule_matching), results
    return loader.ruleset(min_priority=min_priority, rule_matching=rule_matching, hostname=hostname,
                          selectors=selectors), results


def validate_files(paths: Iterable[str | os.PathLike[str]], *,
                   plugins: dict[str, str] | None = None) -> list[LoadResult]:
    """``falco -V``: every file is loaded (into one engine, in order) and gets its result."""
    loader = RuleLoader(plugins=plugins)
    return [loader.load_file(f) for f in rule_files(paths)]


def _has_mapping_root(content: str) -> bool:
    import yaml

    try:
        return any(isinstance(d, dict) for d in yaml.safe_load_all(content))
    except Exception:
        return False


def format_validation(results: Sequence[LoadResult], json_output: bool = False, *,
                      program: str = "falco") -> tuple[str, str, bool]:
    """What ``falco -V`` prints: (stdout text, stderr text for warnings, all files valid).
    ``program`` is the command the configuration-file hint tells to run."""
    ok = all(r.successful for r in results)
    if json_output:
        body = {"falco_load_results": [r.as_json() for r in results]}
        return json.dumps(body, ensure_ascii=False) + "\n", "", ok
    summary: list[str] = []
    err = ""
    for r in results:
        if not r.successful or not r.warnings:
            text = r.as_verbose_string()
        else:
            text = f"{r.name}: Ok, with warnings"
            err += r.as_verbose_string() + "\n"
        if not r.successful and _has_mapping_root(r.contents.get(r.name, "")):
            text += ("\nHint: --validate expects a rules file, that is a YAML list of rule, macro, and list items. "
                     f"If this is a {'Falco' if program == 'falco' else program} configuration file, validate "
                     f"it and its configured rules with `{program} -c {r.name} --dry-run` instead.")
        summary.append(text)
    return "\n".join(summary) + "\n", err, ok
