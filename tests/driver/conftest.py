"""Live eBPF fixture: one LiveSource per test module (loading takes ~0.1 s; attaching is global).

Every test starts real processes and waits, with a bounded timeout, for the kernel's events about them.
The machine is shared, so events are matched by the tid of the test's own child processes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from driver_live import EXTRA, Live, live_skip_reason

from tercel.driver.errors import DriverError
from tercel.driver.interest import STATE_SYSCALLS
from tercel.driver.loader import HANDLERS


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    reason = live_skip_reason()
    if reason:
        pytest.skip(reason)
    from tercel.capture.live import LiveSource

    src = LiveSource(set(HANDLERS) | STATE_SYSCALLS | EXTRA, poll_interval=0.01)
    try:
        src.open()
    except DriverError as exc:
        pytest.skip(f"eBPF unavailable here: {exc}")
    try:
        yield Live(src)
    finally:
        src.close()


