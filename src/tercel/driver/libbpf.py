"""The few libbpf calls tercel needs, through ctypes against libbpf.so.1.

Every pointer-returning function gets `restype = c_void_p` (the default int truncates pointers); the
library is loaded with `use_errno=True` because libbpf reports failures as NULL + errno or as -errno.
libbpf's log lines (verifier output included) are collected through `libbpf_set_print` so that a load
failure can be explained; the callback object is kept alive at module level.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import c_char_p, c_int, c_uint, c_void_p
from typing import Any

from tercel.driver.errors import DriverError

_PRINT_FN = ctypes.CFUNCTYPE(c_int, c_int, c_char_p, c_void_p)


class LibBpf:
    """Typed handles on libbpf functions, plus the collected log of the last operations."""

    def __init__(self) -> None:
        path = os.environ.get("TERCEL_LIBBPF") or ctypes.util.find_library("bpf") or "libbpf.so.1"
        try:
            lib = ctypes.CDLL(path, use_errno=True)
        except OSError as exc:
            raise DriverError(f"libbpf not found ({path}): install the libbpf1 package") from exc
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.lib = lib
        self._vsnprintf = libc.vsnprintf
        self._vsnprintf.argtypes = [c_char_p, ctypes.c_size_t, c_char_p, c_void_p]
        self._vsnprintf.restype = c_int
        self.log: list[str] = []

        def proto(name: str, restype: object, *argtypes: object) -> None:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = list(argtypes)

        proto("bpf_object__open_file", c_void_p, c_char_p, c_void_p)
        proto("bpf_object__load", c_int, c_void_p)
        proto("bpf_object__close", None, c_void_p)
        proto("bpf_object__find_map_by_name", c_void_p, c_void_p, c_char_p)
        proto("bpf_object__find_program_by_name", c_void_p, c_void_p, c_char_p)
        proto("bpf_object__next_program", c_void_p, c_void_p, c_void_p)
        proto("bpf_program__name", c_char_p, c_void_p)
        proto("bpf_program__fd", c_int, c_void_p)
        proto("bpf_program__attach", c_void_p, c_void_p)
        proto("bpf_program__set_autoload", c_int, c_void_p, ctypes.c_bool)
        proto("bpf_link__destroy", c_int, c_void_p)
        proto("bpf_map__fd", c_int, c_void_p)
        proto("bpf_map__set_max_entries", c_int, c_void_p, ctypes.c_uint32)
        proto("bpf_map__max_entries", ctypes.c_uint32, c_void_p)
        proto("bpf_map_update_elem", c_int, c_int, c_void_p, c_void_p, ctypes.c_uint64)
        proto("bpf_map_lookup_elem", c_int, c_int, c_void_p, c_void_p)
        proto("libbpf_num_possible_cpus", c_int)
        proto("libbpf_set_print", c_void_p, _PRINT_FN)

        def _print(level: int, fmt: bytes | None, args: int | None) -> int:
            try:
                buf = ctypes.create_string_buffer(2048)
                self._vsnprintf(buf, len(buf), fmt, args)
                if len(self.log) < 4000:
                    self.log.append(buf.value.decode("utf-8", "replace"))
            except Exception:  # exceptions must not cross the C callback
                pass
            return 0

        self._print_cb = _PRINT_FN(_print)  # keep a reference: libbpf holds the raw pointer
        lib.libbpf_set_print(self._print_cb)

    def last_error_lines(self, n: int = 6) -> str:
        lines = [ln.strip() for ln in "".join(self.log).splitlines() if ln.strip()]
        return " | ".join(lines[-n:])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lib, name)


def errno_now() -> int:
    return ctypes.get_errno()


def u32(v: int) -> ctypes.c_uint32:
    return ctypes.c_uint32(v)


__all__ = ["LibBpf", "c_uint", "errno_now", "u32"]
