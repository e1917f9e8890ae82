"""Which rule files to load: ``-r`` (replaces ``rules_files``), directories expanded to their
``.yaml``/``.yml`` files in alphabetical order (the engine's ``rule_files``, as ``-V`` uses it),
missing config entries skipped."""

from __future__ import annotations

import os

from tercel.app.engine_api import rule_files
from tercel.app.errors import AppError


def expand(paths: list[str], *, missing_ok: bool) -> list[str]:
    present: list[str] = []
    for p in paths:
        if os.path.exists(p):
            present.append(p)
        elif not missing_ok:
            raise AppError(f"Could not read rules file {p}: no such file or directory")
    return rule_files(present)
