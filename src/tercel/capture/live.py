"""Live event source: the eBPF driver's ring buffer as a stream of raw PPME events (contract 1).

    src = LiveSource(syscalls).open()      # attaches, then scans /proc (no gap: events queue meanwhile)
    src.initial                            # InitialState from the /proc scan
    for buf, offset, cpu, flags in src:    # blocks; ends after src.stop() (any thread) or close()
        ...

Each ring record is an 8-byte tercel prefix (u16 cpu, ...) followed by the PPME event, so `offset`
points 8 bytes into the record. Records are copied out of the ring a batch at a time (one `bytes` per
batch), so events stay valid after the ring space is reused.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterable, Iterator

from tercel.capture import procscan
from tercel.capture.records import InitialState
from tercel.driver.errors import DriverError
from tercel.driver.loader import Driver, DriverCounters

_CPU = struct.Struct("<H")
RawEvent = tuple[bytes, int, int, int]


class LazyCounters:
    """`DriverCounters` read when first looked at (sent, dropped, failed, dropped_per_cpu)."""

    __slots__ = ("_driver", "_value")

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._value: DriverCounters | None = None

    def get(self) -> DriverCounters:
        if self._value is None:
            self._value = self._driver.counters()
        return self._value

    @property
    def sent(self) -> int:
        return self.get().sent

    @property
    def dropped(self) -> int:
        return self.get().dropped

    @property
    def failed(self) -> int:
        return self.get().failed

    @property
    def dropped_per_cpu(self) -> tuple[int, ...]:
        return self.get().dropped_per_cpu


class LiveSource:
    def __init__(
        self,
        syscalls: Iterable[str] | None = None,
        *,
        snaplen: int = 0,
        ring_bytes: int = 8 << 20,
        wake_bytes: int = 1 << 20,
        poll_interval: float = 0.02,
        scan_proc: bool = True,
        scan_fds: bool = True,
        drop_failed: bool = False,
    ) -> None:
        self._syscalls = set(syscalls) if syscalls is not None else None
        self.poll_interval = poll_interval
        self._scan = scan_proc
        self._scan_fds = scan_fds
        # drop_failed: failed syscalls' exits never leave the kernel (Falco's drop_failed_exit)
        self.driver = Driver(ring_bytes=ring_bytes, snaplen=snaplen, wake_bytes=wake_bytes,
                             drop_failed=drop_failed)
        self.initial = InitialState()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # close() from another thread never unmaps the ring mid-read
        self.received = 0

    def open(self) -> LiveSource:
        self.driver.open(self._syscalls)
        if self._scan:
            try:
                self.initial = procscan.scan(exclude_pid=None, with_fds=self._scan_fds)
            except OSError as exc:
                self.close()
                raise DriverError(f"/proc scan failed: {exc}") from exc
        else:
            self.initial = InitialState(machine=procscan.scan_machine())
        return self

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_interest(self, syscalls: Iterable[str]) -> None:
        """Change the traced syscall set in place (no reload)."""
        self.driver.set_interest(syscalls)

    def counters(self) -> LazyCounters:
        """The kernel's counters, read from the BPF map on first attribute access: callers may ask
        for them every few hundred events and look once a second (three map reads saved per call)."""
        return LazyCounters(self.driver)

    @property
    def own_pid(self) -> int:
        return os.getpid()

    def stop(self) -> None:
        """Make iteration end (safe from another thread or a signal handler): the current batch and
        the records the kernel had already committed are still handed out, so a capture stopped by a
        signal keeps every event from before it. close() ends iteration at once."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self.driver.close()

    def poll(self, timeout: float | None = None) -> tuple[bytes, list[int]]:
        """One batch: the copied bytes and the offset of each PPME header in them; waits up to
        `timeout` (default: the poll interval) when nothing is ready."""
        with self._lock:
            ring = self.driver.ring
            if ring is None:
                return b"", []
            chunk, offs = ring.read_batch()
            if not offs:
                try:
                    ring.wait(self.poll_interval if timeout is None else timeout)
                except (OSError, ValueError):  # closed under us
                    return b"", []
                chunk, offs = ring.read_batch()
        self.received += len(offs)
        return chunk, [o + 8 for o in offs]

    def _drain(self) -> Iterator[tuple[bytes, list[int]]]:
        """Batches up to the producer position seen now (bounded by the ring size)."""
        with self._lock:
            ring = self.driver.ring
            target = ring.produced() if ring is not None else 0
        while True:
            with self._lock:
                ring = self.driver.ring
                if ring is None or ring.consumed() >= target:
                    return
                chunk, offs = ring.read_batch()
            if not offs:
                return
            self.received += len(offs)
            yield chunk, [o + 8 for o in offs]

    def __iter__(self) -> Iterator[RawEvent]:
        unpack = _CPU.unpack_from
        while not self._stop.is_set():
            chunk, offs = self.poll()
            for off in offs:
                yield chunk, off, unpack(chunk, off - 8)[0], 0
        for chunk, offs in self._drain():
            for off in offs:
                yield chunk, off, unpack(chunk, off - 8)[0], 0

    def events(self, duration: float) -> Iterator[RawEvent]:
        """Iterate for `duration` seconds (tests, benchmarks), then return."""
        import time

        end = time.monotonic() + duration
        unpack = _CPU.unpack_from
        while time.monotonic() < end and not self._stop.is_set():
            chunk, offs = self.poll(min(self.poll_interval, max(0.0, end - time.monotonic())))
            for off in offs:
                yield chunk, off, unpack(chunk, off - 8)[0], 0
