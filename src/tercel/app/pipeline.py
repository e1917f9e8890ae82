"""Wiring of the lower layers for one run: capture source -> state inspector -> ruleset -> outputs.

The adapters here are the only place the app names the capture and state modules, so a missing
layer is one clear "not available" line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tercel.app.errors import AppError, Unavailable


def _import(module: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise Unavailable(f"{what} ({module}) is not available in this build yet") from None
        raise


def capture_error_types() -> tuple[type[BaseException], ...]:
    mod = _import("tercel.capture.scap_reader", "the .scap reader")
    types = [getattr(mod, n) for n in ("ScapError", "CaptureError", "ScapReadError") if hasattr(mod, n)]
    return tuple(t for t in types if isinstance(t, type) and issubclass(t, BaseException))


def open_capture(path: str) -> Any:
    """A capture source over ``path`` (iterable of (buf, offset, cpu, flags), with initial state)."""
    mod = _import("tercel.capture.scap_reader", "the .scap reader")
    errors = capture_error_types()
    try:
        for name in ("ScapReader", "open_capture"):
            fn = getattr(mod, name, None)
            if callable(fn):
                return fn(path)
    except OSError as exc:
        raise AppError(f"cannot open capture file {path}: {exc.strerror or exc}") from None
    except errors as exc:
        raise AppError(f"cannot read capture file {path}: {exc}") from None
    raise Unavailable("the .scap reader has no entry point (open_capture / ScapReader)")


def make_inspector(source: Any | None) -> Any:
    """A state Inspector seeded with the source's initial state (process, fd, user lists)."""
    mod = _import("tercel.state.inspector", "state tracking")
    initial = getattr(source, "initial", None) if source is not None else None
    from tercel.fields import registry

    registry.get("evt.num")  # loads the catalog, then the extractors, in the registry's order
    return mod.Inspector(initial)


def progress_of(source: Any) -> float:
    """Fraction of the source consumed (0 when unknown), for the progress display."""
    fn = getattr(source, "progress", None)
    if not callable(fn):
        return 0.0
    try:
        return float(fn() or 0.0)
    except Exception:  # a progress display must never break a replay
        return 0.0


def iterate(source: Any) -> Iterator[tuple[Any, int, int, int]]:
    return iter(source)
