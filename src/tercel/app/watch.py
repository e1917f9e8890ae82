"""``watch_config_files``: a change to the configuration or rule files restarts (reloads) tercel, the same
path as SIGHUP. Falco uses inotify; the standard library has none, so a daemon thread compares
(mtime, size, inode) of the watched files once a second — cheap for a handful of files."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class FileWatcher:
    def __init__(self, paths: Iterable[str], on_change: Callable[[str], None], interval: float = 1.0) -> None:
        self.paths = sorted(set(paths))
        self.on_change = on_change
        self.interval = interval
        self._stamps = {p: _stamp(p) for p in self.paths}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tercel-watch", daemon=True)

    def start(self) -> FileWatcher:
        if self.paths:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def changed(self) -> str | None:
        """The first watched file that changed since the last call (or since start), else None."""
        for p in self.paths:
            now = _stamp(p)
            if now != self._stamps[p]:
                self._stamps[p] = now
                return p
        return None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            path = self.changed()
            if path is not None:
                self.on_change(path)
                return
