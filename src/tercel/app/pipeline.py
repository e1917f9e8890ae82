"""Wiring of the lower layers for one run: .scap reader -> state inspector (with the field extractors
loaded) -> ruleset -> outputs. Capture problems become one-line AppErrors naming the file."""

from __future__ import annotations

from typing import Any

from tercel.app.errors import AppError
from tercel.capture.scap_reader import ScapError, ScapReader


def capture_error_types() -> tuple[type[BaseException], ...]:
    return (ScapError,)


def open_capture(path: str) -> ScapReader:
    """A capture source over ``path`` (iterable of (buf, offset, cpu, flags), with ``.initial`` state)."""
    try:
        return ScapReader(path)
    except OSError as exc:
        raise AppError(f"cannot open capture file {path}: {exc.strerror or exc}") from None
    except ScapError as exc:
        raise AppError(f"cannot read capture file {path}: {exc}") from None


def make_inspector(source: Any | None) -> Any:
    """A state Inspector seeded with the source's initial state (process, fd, user lists)."""
    from tercel.fields import registry
    from tercel.state.inspector import Inspector

    registry.get("evt.num")  # loads the catalog, then the extractors, in the registry's order
    return Inspector(getattr(source, "initial", None) if source is not None else None)


def progress_of(source: Any) -> float:
    """Fraction of the source consumed (0 when unknown), for the progress display."""
    fn = getattr(source, "progress", None)
    if not callable(fn):
        return 0.0
    try:
        return float(fn() or 0.0)
    except (OSError, ValueError, TypeError):
        return 0.0


def start_container_metadata(cfg: Any) -> Any:
    """Container metadata for the container.* / k8s.* fields of a live run, asked of the container
    runtimes by a worker thread (docs/containers.md); the caller stops it when the run ends."""
    from tercel.state.container_meta import ContainerConfigError, ContainerMetadata

    try:
        return ContainerMetadata.from_config(cfg).start()
    except ContainerConfigError as exc:
        raise AppError(f"invalid configuration: {exc}") from None
