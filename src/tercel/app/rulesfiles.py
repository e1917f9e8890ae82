"""Which rule files to load: ``-r`` (replaces ``rules_files``), directories expanded to their
``.yaml``/``.yml`` files in alphabetical order, missing config entries skipped."""

from __future__ import annotations

import os

from tercel.app.errors import AppError


def expand(paths: list[str], *, missing_ok: bool) -> list[str]:
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(
                os.path.join(p, n)
                for n in sorted(os.listdir(p))
                if n.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(p, n))
            )
        elif os.path.exists(p):
            out.append(p)
        elif not missing_ok:
            raise AppError(f"Could not read rules file {p}: no such file or directory")
    return out
