"""Attaches value extraction to the declared fields (imported by the registry on first use)."""

from __future__ import annotations

from tercel.fields import extract_container, extract_evt, extract_fd, extract_proc

__all__ = ["extract_container", "extract_evt", "extract_fd", "extract_proc"]
