"""Test-only fields (``tst.*``) whose extractors read a dict event, declared in the real
registry for the duration of a test and removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tercel.fields import registry
from tercel.fields.registry import ArgKind, ArgMode, FieldDef

# name, type, arg mode, arg kind, is_list, no_rhs, no_transformer
SPECS = [
    ("tst.s", "CHARBUF", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.s2", "CHARBUF", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.path", "FSPATH", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.i", "INT64", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.u", "UINT64", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.b", "BOOL", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.ip", "IPADDR", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.net", "IPNET", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.buf", "BYTEBUF", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.d", "DOUBLE", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.rt", "RELTIME", ArgMode.NONE, ArgKind.KEY, False),
    ("tst.list", "CHARBUF", ArgMode.NONE, ArgKind.KEY, True),
    ("tst.anc", "CHARBUF", ArgMode.OPTIONAL, ArgKind.INDEX, False),
    ("tst.env", "CHARBUF", ArgMode.REQUIRED, ArgKind.KEY, False),
]


def _factory(name: str):
    def make(arg: str | None):
        key = name if arg is None else f"{name}[{arg}]"
        return lambda evt: evt.get(key)
    return make


@contextmanager
def fake_fields() -> Iterator[None]:
    declared = []
    for name, ftype, mode, kind, is_list in SPECS:
        if registry.get(name) is None:
            registry.declare(FieldDef(name=name, ftype=ftype, desc="test field", field_class="tst", arg=mode,
                                      arg_kind=kind, is_list=is_list))
            declared.append(name)
        registry.implement(name, _factory(name))
    try:
        yield
    finally:
        for name in declared:
            registry._fields.pop(name, None)  # test-only fields leave no trace


class Evt(dict[str, Any]):
    """An event whose field values are given directly."""
