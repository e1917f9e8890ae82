"""``--version``, ``--support``, ``--page-size``: facts about this build, printed as Falco does."""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Any

from tercel import ENGINE_VERSION, __version__

# The newest event-table generation tercel decodes (the driver's API/schema versions it matches).
DRIVER_API_VERSION = "8.0.0"
DRIVER_SCHEMA_VERSION = "3.0.0"
PLUGIN_API_VERSION = "0.0.0"  # no plugin loading


def _engine_version_parts() -> tuple[int, int, int]:
    a, b, c = (int(x) for x in ENGINE_VERSION.split("."))
    return a, b, c


def versions() -> dict[str, Any]:
    """Falco's ``versions_info`` keys, with tercel's values."""
    return {
        "tercel_version": __version__,
        "falco_version": __version__,
        "libs_version": "tercel-" + __version__,
        "plugin_api_version": PLUGIN_API_VERSION,
        "driver_api_version": DRIVER_API_VERSION,
        "driver_schema_version": DRIVER_SCHEMA_VERSION,
        "default_driver_version": "tercel-" + __version__,
        "engine_version": str(_engine_version_parts()[1]),
        "engine_version_semver": ENGINE_VERSION,
        "python_version": platform.python_version(),
        "plugin_versions": {},
    }


def version_text() -> str:
    v = versions()
    return (
        f"Tercel version: {v['tercel_version']}\n"
        f"Libs version:  {v['libs_version']}\n"
        f"Plugin API:    {v['plugin_api_version']}\n"
        f"Engine:        {v['engine_version_semver']}\n"
        "Driver:\n"
        f"  API version:    {v['driver_api_version']}\n"
        f"  Schema version: {v['driver_schema_version']}\n"
        f"  Default driver: {v['default_driver_version']}\n"
    )


def version_json() -> str:
    return json.dumps(versions(), separators=(",", ":"), sort_keys=True)


def page_size_text() -> str:
    return f"Your system page size is: {os.sysconf('SC_PAGE_SIZE')} bytes\n"


def support(config_files: list[str], rules_files: list[str], argv: list[str]) -> dict[str, Any]:
    """What Falco's ``--support`` prints: versions, system, command line, config and rule files."""
    u = os.uname()
    cfg_text = ""
    for f in config_files:
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                cfg_text += fh.read()
        except OSError:
            pass
    rules = []
    for f in rules_files:
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                rules.append({"name": f, "content": fh.read()})
        except OSError:
            pass
    return {
        "version": __version__,
        "engine_info": versions(),
        "system_info": {
            "sysname": u.sysname,
            "nodename": u.nodename,
            "release": u.release,
            "version": u.version,
            "machine": u.machine,
        },
        "cmdline": " ".join([os.path.basename(sys.argv[0]) or "tercel", *argv]),
        "config": cfg_text,
        "config_files": config_files,
        "rules_files": rules,
    }
