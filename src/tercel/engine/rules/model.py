"""What the reader collects from rule files, before compilation (Falco's *_info structs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tercel.engine.priority import Priority
from tercel.engine.rules.results import Context


@dataclass(slots=True)
class Version:
    major: int
    minor: int
    patch: int

    def key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def compatible_with(self, required: Version) -> bool:
        """libsinsp's rule: same major, and at least the required version."""
        return self.major == required.major and self.key() >= required.key()

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_version(text: str) -> Version | None:
    """``x.y.z`` (a ``-pre``/``+build`` suffix is accepted and ignored); None when invalid."""
    import re

    m = re.fullmatch(r"\s*(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?\s*", text)
    if not m:
        return None
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(3)))


@dataclass(slots=True)
class Entry:
    """An exception's fields/comps/values entry: a scalar or a (nested) list of entries."""

    is_list: bool = False
    item: str = ""
    items: list[Entry] = field(default_factory=list)

    def is_valid(self) -> bool:
        return bool(self.items) if self.is_list else bool(self.item)


@dataclass(slots=True)
class ExceptionInfo:
    name: str
    ctx: Context
    fields: Entry = field(default_factory=Entry)
    comps: Entry = field(default_factory=Entry)
    values: list[Entry] = field(default_factory=list)


@dataclass(slots=True)
class ListInfo:
    name: str
    ctx: Context
    items: list[str] = field(default_factory=list)
    index: int = 0
    visibility: int = 0


@dataclass(slots=True)
class MacroInfo:
    name: str
    ctx: Context
    cond: str = ""
    cond_ctx: Context | None = None
    cond_pos: CondPos | None = None
    index: int = 0
    visibility: int = 0


@dataclass(slots=True)
class CondPos:
    """Enough to map an offset inside a condition/output string back to the file."""

    file: str
    content: str
    start: int  # offset of the scalar node in the file
    end: int
    style: str | None  # None (plain), "'", '"', "|", ">"
    # For appended conditions: (offset in the joined text where this part starts, part's CondPos)
    parts: list[tuple[int, CondPos]] = field(default_factory=list)


@dataclass(slots=True)
class RuleInfo:
    name: str
    ctx: Context
    cond: str = ""
    cond_ctx: Context | None = None
    cond_pos: CondPos | None = None
    output: str = ""
    output_ctx: Context | None = None
    desc: str = ""
    priority: Priority = Priority.DEBUG
    source: str = "syscall"
    enabled: bool = True
    tags: set[str] = field(default_factory=set)
    exceptions: list[ExceptionInfo] = field(default_factory=list)
    capture: bool = False
    capture_duration: int = 0
    warn_evttypes: bool = True
    skip_if_unknown_filter: bool = False
    unknown_source: bool = False
    index: int = 0
    visibility: int = 0


@dataclass(slots=True)
class RuleUpdate:
    """An append or a selective replace of an existing rule."""

    name: str
    ctx: Context
    cond: str | None = None
    cond_ctx: Context | None = None
    cond_pos: CondPos | None = None
    output: str | None = None
    desc: str | None = None
    tags: set[str] | None = None
    exceptions: list[ExceptionInfo] | None = None
    priority: Priority | None = None
    enabled: bool | None = None
    capture: bool | None = None
    capture_duration: int | None = None
    warn_evttypes: bool | None = None
    skip_if_unknown_filter: bool | None = None

    def has_any_value(self) -> bool:
        return any(
            v is not None
            for v in (self.cond, self.output, self.desc, self.tags, self.exceptions, self.priority,
                      self.enabled, self.capture, self.capture_duration, self.warn_evttypes,
                      self.skip_if_unknown_filter)
        )


@dataclass(slots=True)
class PluginRequirement:
    name: str
    version: str


@dataclass(slots=True)
class PluginVersionInfo:
    ctx: Context
    alternatives: list[PluginRequirement] = field(default_factory=list)
