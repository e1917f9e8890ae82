"""The field registry: every field a condition or an output can name.

Declarations (name, type, argument, description) live in ``tercel.fields.catalog``; the value
extraction for each field is attached with :func:`implement` by the modules that know the state
(``tercel.fields.extract_*``). The engine only talks to this module:

    fdef, dotted_arg = resolve("evt.arg.flags")     # -> (FieldDef evt.arg, "flags")
    fn = make_extractor(fdef, arg)                  # fn(event) -> value, or None when there is none

Values returned by extractors (the contract between fields and engine):
  * string types (CHARBUF, FSPATH, ...): ``str``; invalid UTF-8 decoded with ``surrogateescape``
  * integer types (INT*, UINT*, PID, FD, PORT, UID, GID, ERRNO, RELTIME, ABSTIME, FLAGS*, MODE...): ``int``
  * BOOL: ``bool``
  * IPADDR: canonical text (``"127.0.0.1"``, ``"::1"``); IPNET likewise (the engine matches CIDRs)
  * BYTEBUF: ``bytes``
  * DOUBLE: ``float``
  * list fields (``is_list``): ``tuple`` of the element type
  * ``None``: the field has no value for this event (prints ``<NA>``, ``exists`` is false)
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Extractor = Callable[[Any], Any]  # event -> value | None
ExtractorFactory = Callable[[str | None], Extractor]  # argument (or None) -> extractor


class ArgMode(enum.Enum):
    NONE = "none"  # no argument allowed
    OPTIONAL = "optional"  # proc.aname / proc.aname[2]
    REQUIRED = "required"  # proc.env[HOME], evt.arg[0] / evt.arg.name


class ArgKind(enum.Enum):
    INDEX = "index"  # a non-negative integer: proc.aname[2]
    KEY = "key"  # any text: proc.env[HOME], container.label[app]
    INDEX_OR_KEY = "index_or_key"  # evt.arg[0] or evt.arg[name]


# Falco's field type names, as `--list` prints them.
STRING_TYPES = frozenset({"CHARBUF", "FSPATH", "FSRELPATH", "CHARBUFARRAY"})
INT_TYPES = frozenset({
    "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "PID", "FD", "PORT",
    "UID", "GID", "ERRNO", "RELTIME", "ABSTIME", "FLAGS8", "FLAGS16", "FLAGS32", "MODE", "SYSCALLID",
    "SIGTYPE", "L4PROTO", "SOCKFAMILY", "ENUMFLAGS8", "ENUMFLAGS16", "ENUMFLAGS32", "SIGSET",
})
IP_TYPES = frozenset({"IPADDR"})
IPNET_TYPES = frozenset({"IPNET"})
BOOL_TYPES = frozenset({"BOOL"})
BYTES_TYPES = frozenset({"BYTEBUF"})
DOUBLE_TYPES = frozenset({"DOUBLE"})


def value_kind(ftype: str) -> str:
    """The Python-side kind of a field type: str, int, bool, ip, ipnet, bytes, double."""
    if ftype in STRING_TYPES:
        return "str"
    if ftype in INT_TYPES:
        return "int"
    if ftype in BOOL_TYPES:
        return "bool"
    if ftype in IP_TYPES:
        return "ip"
    if ftype in IPNET_TYPES:
        return "ipnet"
    if ftype in BYTES_TYPES:
        return "bytes"
    if ftype in DOUBLE_TYPES:
        return "double"
    raise ValueError(f"unknown field type {ftype!r}")


def _no_value(_arg: str | None) -> Extractor:
    return lambda _evt: None


@dataclass(slots=True)
class FieldDef:
    name: str  # "proc.aname"
    ftype: str  # Falco type name: "CHARBUF", "INT64", ...
    desc: str
    field_class: str  # the class it is listed under: "evt", "process", "user", "fd", ...
    arg: ArgMode = ArgMode.NONE
    arg_kind: ArgKind = ArgKind.KEY
    dotted_arg: bool = False  # the argument may also follow a dot: evt.arg.flags
    is_list: bool = False  # value is a tuple (proc.args? no: fd.types, proc.aname without index...)
    filter_only: bool = False  # usable in conditions only (EPF_FILTER_ONLY)
    no_rhs: bool = False  # may not appear inside val() (EPF_NO_RHS)
    no_transformer: bool = False  # may not be transformed (EPF_NO_TRANSFORMER)
    deprecated: bool = False  # loading a rule that uses it warns
    hidden: bool = False  # not listed by --list (EPF_TABLE_ONLY and friends)
    factory: ExtractorFactory = field(default=_no_value, repr=False)
    implemented: bool = False  # False until an extract module attached a real factory

    @property
    def kind(self) -> str:
        return value_kind(self.ftype)


@dataclass(slots=True)
class FieldClass:
    name: str  # "evt", "process", ...
    desc: str
    sources: tuple[str, ...] = ("syscall",)


_fields: dict[str, FieldDef] = {}
_classes: dict[str, FieldClass] = {}
_loaded = False


def declare_class(fclass: FieldClass) -> None:
    _classes[fclass.name] = fclass


def declare(fdef: FieldDef) -> None:
    if fdef.name in _fields:
        raise ValueError(f"field {fdef.name} declared twice")
    _fields[fdef.name] = fdef


def implement(name: str, factory: ExtractorFactory) -> None:
    """Attach the value extraction of a declared field."""
    fdef = _fields.get(name)
    if fdef is None:
        raise KeyError(f"implementing undeclared field {name}")
    fdef.factory = factory
    fdef.implemented = True


def fixed(fn: Extractor) -> ExtractorFactory:
    """The factory of a field that takes no argument: always ``fn``."""
    return lambda _arg: fn


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module("tercel.fields.catalog")  # declares every field
        importlib.import_module("tercel.fields.extract")  # attaches extractors


def get(name: str) -> FieldDef | None:
    """The field with exactly this name."""
    _ensure_loaded()
    return _fields.get(name)


def resolve(name: str) -> tuple[FieldDef, str | None] | None:
    """Find the field a dotted name denotes; for fields taking a dotted argument
    (``evt.arg.flags``) also return that argument. None when no field matches."""
    _ensure_loaded()
    fdef = _fields.get(name)
    if fdef is not None:
        return fdef, None
    head, dot, tail = name.rpartition(".")
    while dot:
        fdef = _fields.get(head)
        if fdef is not None and fdef.dotted_arg:
            return fdef, name[len(head) + 1 :]
        head, dot, _ = head.rpartition(".")
    return None


def make_extractor(fdef: FieldDef, arg: str | None) -> Extractor:
    return fdef.factory(arg)


def fields() -> Iterator[FieldDef]:
    """Every declared field, in declaration order."""
    _ensure_loaded()
    return iter(_fields.values())


def classes() -> Iterator[FieldClass]:
    _ensure_loaded()
    return iter(_classes.values())
