"""Direct reader of a BPF ring buffer through mmap (faster than ring_buffer__poll + a ctypes callback).

Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (we write it); page 1 the producer
position (read-only), then the data area mapped twice in a row, so a record, or a run of records up to
the ring size, is always contiguous. Each record is an 8-byte header (u32 length with bit 31 = busy and
bit 30 = discarded, u32 page offset) followed by the data, rounded up to 8 bytes.
"""

from __future__ import annotations

import mmap
import select
import struct

_BUSY = 1 << 31
_DISCARD = 1 << 30
_HDR = struct.Struct("<I")


class RingReader:
    """Reads committed records in batches. A batch is copied out of the ring (one `bytes`), then its
    space is released at once, so callers may keep the bytes for as long as they like."""

    def __init__(self, map_fd: int, size: int) -> None:
        page = mmap.PAGESIZE
        if size <= 0 or size & (size - 1) or size % page:
            raise ValueError(f"ring size {size} is not a power-of-two multiple of the page size")
        self.size = size
        self._mask = size - 1
        self._cons_map = mmap.mmap(map_fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        self._prod_map = mmap.mmap(map_fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
        self._cons = memoryview(self._cons_map)[:8].cast("Q")
        self._prod = memoryview(self._prod_map)[:8].cast("Q")
        self._data = memoryview(self._prod_map)[page:]
        self._epoll = select.epoll()
        self._epoll.register(map_fd, select.EPOLLIN)

    def produced(self) -> int:
        """The producer position (bytes ever reserved in the ring)."""
        return int(self._prod[0])

    def consumed(self) -> int:
        """The consumer position (bytes ever released by this reader)."""
        return int(self._cons[0])

    def pending(self) -> int:
        """Bytes committed or reserved by the producer and not yet consumed."""
        return int(self._prod[0] - self._cons[0])

    def wait(self, timeout: float) -> None:
        """Sleep until the kernel forces a wake-up or `timeout` seconds pass (records submitted with
        BPF_RB_NO_WAKEUP never wake us: callers poll on a short timeout)."""
        if self._prod[0] == self._cons[0]:
            self._epoll.poll(timeout)

    def read_batch(self, max_bytes: int = 1 << 20) -> tuple[bytes, list[int]]:
        """Copy out up to ~max_bytes of committed records: returns the bytes and the offset of each
        record's data inside them (discarded records are skipped). Empty when nothing is ready."""
        cons = int(self._cons[0])
        prod = int(self._prod[0])
        if cons == prod:
            return b"", []
        data = self._data
        mask = self._mask
        unpack = _HDR.unpack_from
        pos = cons
        offsets: list[int] = []
        limit = cons + min(max_bytes, self.size)
        while pos < prod and pos < limit:
            (hdr,) = unpack(data, pos & mask)
            if hdr & _BUSY:
                break
            if not hdr & _DISCARD:
                offsets.append(pos - cons + 8)
            pos += ((hdr & ~(_BUSY | _DISCARD)) + 15) & ~7
        if pos == cons:
            return b"", []
        start = cons & mask
        chunk = bytes(data[start : start + (pos - cons)])
        self._cons[0] = pos
        return chunk, offsets

    def close(self) -> None:
        try:
            self._epoll.close()
        finally:
            for mv in (self._cons, self._prod, self._data):
                mv.release()
            self._cons_map.close()
            self._prod_map.close()
