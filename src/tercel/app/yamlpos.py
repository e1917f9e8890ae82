"""YAML loading that remembers where every value came from (file, line, column).

Configuration errors must name the file, line and key; PyYAML's composed node tree has the marks,
so we build plain Python values from it and keep a side table of positions keyed by the value's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

try:  # libyaml's C composer when present: same nodes, faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]
KEY = "\x00key"  # positions[(KEY, *path)]: position of the key naming `path` (values: positions[path])


@dataclass(frozen=True, slots=True)
class Pos:
    origin: str  # a file name, or "command line option -o ..."
    line: int = 0  # 1-based; 0 when unknown
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.origin}:{self.line}:{self.column}"
        return self.origin


class YamlLoadError(Exception):
    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(f"{pos}: {message}")
        self.pos = pos
        self.message = message


_scalar_constructor = yaml.SafeLoader("")  # one loader object, only to construct scalars
_MAX_NODES = 1_000_000


def _scalar(node: yaml.ScalarNode) -> Any:
    try:
        return _scalar_constructor.construct_object(node, deep=True)
    finally:  # the constructor remembers every node it built: forget it, or each (re)load leaks its nodes
        _scalar_constructor.constructed_objects.pop(node, None)


def _build(node: yaml.Node, path: Path, origin: str, positions: dict[Path, Pos], depth: int = 0) -> Any:
    if depth > 100:
        raise YamlLoadError(_pos(node, origin), "document nested too deeply")
    positions[path] = _pos(node, origin)
    if len(positions) > _MAX_NODES:  # aliases can make a small file expand without bound
        raise YamlLoadError(_pos(node, origin), f"document has more than {_MAX_NODES} values")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise YamlLoadError(_pos(knode, origin), "mapping keys must be plain scalars")
            key = str(_scalar(knode))
            positions[(KEY, *path, key)] = _pos(knode, origin)  # where the key itself is written
            out[key] = _build(vnode, (*path, key), origin, positions, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(n, (*path, i), origin, positions, depth + 1) for i, n in enumerate(node.value)]
    return _scalar(node)  # type: ignore[arg-type]


def _pos(node: yaml.Node, origin: str) -> Pos:
    mark = node.start_mark
    return Pos(origin, mark.line + 1, mark.column + 1)


def load_text(text: str, origin: str) -> tuple[Any, dict[Path, Pos]]:
    """Parse one YAML document; return its value (None for an empty file) and the position table."""
    positions: dict[Path, Pos] = {}
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(origin, mark.line + 1, mark.column + 1) if mark else Pos(origin)
        raise YamlLoadError(pos, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(Pos(origin), f"invalid YAML: {exc}") from None
    if node is None:
        return None, positions
    try:
        return _build(node, (), origin, positions), positions
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        pos = Pos(origin, mark.line + 1, mark.column + 1) if mark else Pos(origin)
        raise YamlLoadError(pos, f"invalid YAML value: {exc.problem}") from None
    except RecursionError:
        raise YamlLoadError(Pos(origin), "document nested too deeply") from None


MAX_FILE_BYTES = 16 << 20  # a configuration file is small; /dev/zero or a log file given by mistake is not


def load_file(path: str) -> tuple[Any, dict[Path, Pos]]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlLoadError(Pos(path), f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise YamlLoadError(Pos(path), f"file is larger than {MAX_FILE_BYTES >> 20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlLoadError(Pos(path, line, column), f"invalid UTF-8 byte 0x{data[exc.start]:02x} "
                                             f"at byte offset {exc.start}") from None
    return load_text(text, path)
