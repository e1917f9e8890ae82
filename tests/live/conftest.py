"""Live end-to-end tests (issue 4): need root, eBPF with BTF and tracepoints, the built BPF object and
the official rules in ../shared; every test skips with the reason otherwise."""

from __future__ import annotations

import pytest
from tercel_live import live_skip_reason


@pytest.fixture(scope="session")
def live_ok() -> None:
    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
