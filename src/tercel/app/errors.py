"""Errors the command line turns into one clear line on stderr and an exit code (never a traceback)."""

from __future__ import annotations


class AppError(Exception):
    """A fatal problem for the user: printed as ``tercel: <message>``, exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Unavailable(AppError):
    """A part of tercel this command needs is missing from this build or this machine."""
