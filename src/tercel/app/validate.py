"""``-V FILE`` / ``--validate FILE`` (repeatable), as Falco prints it.

stdout, text: for each file ``<file>: Ok`` or ``<file>: Invalid`` followed by every error (located,
with a snippet); a file with warnings only is ``<file>: Ok, with warnings`` and its warnings go to
stderr. With ``json_output`` the one stdout line is ``{"falco_load_results": [...]}`` (plus
``falco_describe_results`` with ``-L``/``-l``). Exit code 1 when any file has errors."""

from __future__ import annotations

import json
import sys

from tercel.app import engine_api, log
from tercel.app.config import Config


def validate(files: list[str], cfg: Config, *, describe_all: bool = False, describe_rule: str | None = None) -> int:
    from tercel.engine.rules import format_validation

    log.info("Validating rules file(s):")
    for f in files:
        log.info("   " + f)
    loaded = engine_api.validate_files(files, cfg)
    out, err, ok = format_validation(loaded.results, json_output=cfg.json_output, program="tercel")
    described = None
    if ok and (describe_all or describe_rule is not None) and loaded.ruleset is not None:
        from tercel.app.describe import describe_json

        described = describe_json(loaded.ruleset, describe_rule)
    if err:
        log.warning(err)
    if cfg.json_output:
        body = json.loads(out)
        if described is not None:
            body["falco_describe_results"] = described
        # one compact line, as Falco's nlohmann dump()
        sys.stdout.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        sys.stdout.write(out)
        if described is not None:
            from tercel.app.describe import format_text

            sys.stdout.write("\n" + format_text(described))
    sys.stdout.flush()
    if not ok:
        sys.stderr.write("tercel: rules validation failed\n")
        return 1
    return 0
