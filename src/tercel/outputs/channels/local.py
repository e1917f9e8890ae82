"""Falco's local channels: stdout, file (append, SIGUSR1 reopens) and program (alert on stdin)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import BinaryIO

from tercel.outputs.channels.base import Channel, Item, RetryableError


def _bytes(item: Item) -> bytes:
    # lines are escaped (text) or valid Unicode (JSON); "replace" is a last guard against a crash
    return item.line.encode("utf-8", "replace") + b"\n"


class StdoutChannel(Channel):
    name = "stdout"

    def __init__(self, stream: BinaryIO, *, buffered: bool) -> None:
        self._out = stream
        self._buffered = buffered

    def send(self, item: Item) -> None:
        self._out.write(_bytes(item))
        if not self._buffered:
            self._out.flush()

    def close(self) -> None:
        self._out.flush()


class FileChannel(Channel):
    """Appends one line per alert. Without keep_alive the file is opened and closed per alert (as
    Falco does); with it, SIGUSR1 (reopen) closes it so the next alert opens the rotated path."""

    name = "file"

    def __init__(self, filename: str, *, keep_alive: bool, buffered: bool) -> None:
        self._filename = filename
        self._keep_alive = keep_alive
        self._buffered = buffered
        self._f: BinaryIO | None = None

    def send(self, item: Item) -> None:
        if self._f is None:
            self._f = open(self._filename, "ab")
        try:
            self._f.write(_bytes(item))
            if not self._buffered:
                self._f.flush()
        except OSError:
            self._drop()
            raise
        if not self._keep_alive:
            self._drop()

    def _drop(self) -> None:
        f, self._f = self._f, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass

    def reopen(self) -> None:
        self._drop()

    def close(self) -> None:
        self._drop()


class ProgramChannel(Channel):
    """Runs `program` through /bin/sh (like Falco's popen) and writes each alert line to its stdin.
    The alert never becomes part of a command line. Without keep_alive: one process per alert,
    waited for (up to `timeout`) like pclose()."""

    name = "program"

    def __init__(self, program: str, *, keep_alive: bool, buffered: bool, timeout: float) -> None:
        self._program = program
        self._keep_alive = keep_alive
        self._buffered = buffered
        self._timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                self._program, shell=True, stdin=subprocess.PIPE, bufsize=-1 if self._buffered else 0
            )
        return self._proc

    def send(self, item: Item) -> None:
        proc = self._spawn()
        assert proc.stdin is not None
        try:
            proc.stdin.write(_bytes(item))
            if not self._buffered:
                proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as e:
            self._finish()
            raise RetryableError(f"program exited: {e}") from None
        if not self._keep_alive:
            self._finish()

    def _finish(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(self._timeout)
        except subprocess.TimeoutExpired:
            proc.kill()  # a program that never exits would pile up processes
            proc.wait()

    def reopen(self) -> None:
        self._finish()
        if self._keep_alive:
            self._spawn()

    def close(self) -> None:
        self._finish()


def default_stdout() -> BinaryIO:
    """The process's stdout as bytes (sys.stdout.buffer when it has one, else a dup of fd 1)."""
    buf = getattr(sys.stdout, "buffer", None)
    if buf is not None:
        return buf
    return open(os.dup(1), "wb")
