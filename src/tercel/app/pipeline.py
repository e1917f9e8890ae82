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
        for name in ("open_capture", "open_scap", "ScapReader", "open"):
            fn = getattr(mod, name, None)
            if callable(fn):
                return fn(path)
    except OSError as exc:
        raise AppError(f"cannot open capture file {path}: {exc.strerror or exc}") from None
    except errors as exc:
        raise AppError(f"cannot read capture file {path}: {exc}") from None
    raise Unavailable("the .scap reader has no entry point (open_capture / ScapReader)")


def make_inspector(source: Any | None, **kwargs: Any) -> Any:
    mod = _import("tercel.state.inspector", "state tracking")
    cls = mod.Inspector
    import inspect

    params = inspect.signature(cls).parameters
    kw = {k: v for k, v in kwargs.items() if k in params}
    if source is not None and "source" in params:
        return cls(source=source, **kw)
    insp = cls(**kw)
    if source is not None:
        for meth in ("load_initial_state", "load_initial", "init_from_source", "load_source"):
            fn = getattr(insp, meth, None)
            if callable(fn):
                fn(source)
                break
    return insp


def iterate(source: Any) -> Iterator[tuple[Any, int, int, int]]:
    return iter(source)
