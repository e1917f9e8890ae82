"""The `tercel` command line (Falco-compatible flags). Filled in by the app work; see docs/architecture.md."""

from __future__ import annotations

import sys

from tercel import __version__


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--version":
        print(f"Tercel version: {__version__}")
        return 0
    print("tercel: not implemented yet", file=sys.stderr)
    return 1
