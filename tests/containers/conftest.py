"""Container tests: one podman setup (image + API service) per session, skipped with the reason when
podman cannot run containers here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from containers_podman import Podman, skip_reason


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    p = Podman(tmp_path_factory.mktemp("podman"))
    try:
        try:
            p.build_image()
            p.start_service()
            p.run("--rm", cmd=("true",))  # can this machine run a container at all?
        except RuntimeError as exc:
            pytest.skip(f"podman cannot run containers here: {exc}")
        yield p
    finally:
        p.close()
