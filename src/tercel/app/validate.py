"""``-V FILE`` / ``--validate FILE`` (repeatable), as Falco prints it.

stdout, text: for each file ``<file>: Ok`` or ``<file>: Invalid`` followed by every error (located,
with a snippet); a file with warnings only is ``<file>: Ok, with warnings`` and its warnings go to
stderr. With ``json_output`` the one stdout line is ``{"falco_load_results": [...]}`` (plus
``falco_describe_results`` with ``-L``/``-l``). Exit code 1 when any file has errors."""

from __future__ import annotations

import json
import sys

import yaml

from tercel.app import engine_api, log
from tercel.app.config import Config


def _mapping_root(text: str | None) -> bool:
    if not text:
        return False
    try:
        return any(isinstance(d, dict) for d in yaml.safe_load_all(text))
    except yaml.YAMLError:
        return False


def validate(files: list[str], cfg: Config, *, describe_all: bool = False, describe_rule: str | None = None) -> int:
    log.info("Validating rules file(s):")
    for f in files:
        log.info("   " + f)
    loaded = engine_api.validate_files(files, cfg)
    ok = all(r.successful for r in loaded.results)
    summary: list[str] = []
    for res in loaded.results:
        if not res.successful or not res.has_warnings:
            part = res.as_string(True, loaded.contents).rstrip("\n")
        else:
            part = f"{res.name}: Ok, with warnings"
            log.warning(res.as_string(True, loaded.contents))
        if not res.successful and _mapping_root(loaded.contents.get(res.name, res.content)):
            part += ("\nHint: --validate expects a rules file, that is a YAML list of rule, macro, and list "
                     "items. If this is a tercel configuration file, validate it and its configured rules "
                     f"with `tercel -c {res.name} --dry-run` instead.")
        summary.append(part)
    described = None
    if ok and (describe_all or describe_rule is not None) and loaded.ruleset is not None:
        from tercel.app.describe import describe_json

        described = describe_json(loaded.ruleset, describe_rule)
    if cfg.json_output:
        out: dict[str, object] = {"falco_load_results": [r.as_json(loaded.contents) for r in loaded.results]}
        if described is not None:
            out["falco_describe_results"] = described
        sys.stdout.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        sys.stdout.write("\n".join(summary) + "\n")
        if described is not None:
            from tercel.app.describe import format_text

            sys.stdout.write("\n" + format_text(described))
    sys.stdout.flush()
    if not ok:
        sys.stderr.write("tercel: rules validation failed\n")
        return 1
    return 0
