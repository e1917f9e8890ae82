"""Load results in Falco's shapes: codes, locations ("contexts"), snippets, text and JSON.

Positions follow Falco (yaml-cpp marks): ``line`` and ``column`` are 0-based, ``offset`` is the
character offset in the file. The text form is what ``falco -V`` prints; the JSON form is one
element of ``{"falco_load_results": [...]}``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ErrorCode(enum.Enum):
    LOAD_ERR_FILE_READ = "File read error"
    LOAD_ERR_YAML_PARSE = "YAML parse error"
    LOAD_ERR_YAML_VALIDATE = "Error validating internal structure of YAML file"
    LOAD_ERR_COMPILE_CONDITION = "Error compiling condition"
    LOAD_ERR_COMPILE_OUTPUT = "Error compiling output"
    LOAD_ERR_VALIDATE = "Error validating rule/macro/list/exception objects"
    LOAD_ERR_EXTENSION = "Error in extension item"

    @property
    def text(self) -> str:
        return self.value

    # Falco's error_desc() returns the short string too (a quirk we keep for identical JSON).
    @property
    def desc(self) -> str:
        return self.value


class WarningCode(enum.Enum):
    LOAD_UNKNOWN_SOURCE = ("Unknown event source",
        "A rule has a unknown event source. This can occur when reading rules content without having a "
        "corresponding plugin loaded, etc. The rule will be silently ignored.")
    LOAD_UNSAFE_NA_CHECK = ("Unsafe <NA> comparison in condition",
        "Comparing a field value with <NA> is unsafe and can lead to unpredictable behavior of the rule "
        "condition. If you need to check for the existence of a field, consider using the 'exists' "
        "operator instead.")
    LOAD_NO_EVTTYPE = ("Condition has no event-type restriction",
        "A rule condition matches too many evt.type values. This has a significant performance penalty. "
        "Make the condition more specific by adding an evt.type field or further restricting the number "
        "of evt.type values in the condition.")
    LOAD_UNKNOWN_FILTER = ("Unknown field or event-type in condition or output",
        "A rule condition or output refers to a field or evt.type that does not exist. This is normally "
        "an error, but if a rule has a skip-if-unknown-filter property, the error is downgraded to a "
        "warning.")
    LOAD_UNUSED_MACRO = ("Unused macro",
        "A macro is defined in the rules content but is not used by any other macro or rule.")
    LOAD_UNUSED_LIST = ("Unused list",
        "A list is defined in the rules content but is not used by any other list, macro, or rule.")
    LOAD_UNKNOWN_ITEM = ("Unknown rules file item",
        "An unknown top-level object is in the rules content. It will be ignored.")
    LOAD_DEPRECATED_ITEM = ("Used deprecated item",
        "A deprecated item is employed by lists, macros, or rules.")
    LOAD_WARNING_EXTENSION = ("Warning in extension item", "An extension item has a warning")
    LOAD_APPEND_NO_VALUES = ("Overriding/appending with no values",
        "A rule exception is overriding/appending with no values")
    LOAD_EXCEPTION_NAME_NOT_UNIQUE = ("Multiple exceptions defined with the same name",
        "A rule is defining multiple exceptions with the same name")
    LOAD_INVALID_MACRO_NAME = ("Invalid macro name", "A macro is defined with an invalid name")
    LOAD_INVALID_LIST_NAME = ("Invalid list name", "A list is defined with an invalid name")
    LOAD_COMPILE_CONDITION = ("Warning in rule condition",
        "A rule condition or output have been parsed with a warning")
    LOAD_UNKNOWN_KEY = ("Unknown key in item definition",
        "An item in the rules content contains an unrecognized key. The key will be ignored. This may "
        "indicate a typo or a property placed on the wrong item type.")

    @property
    def text(self) -> str:
        return self.value[0]

    @property
    def desc(self) -> str:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class Location:
    """One step of a context: the item kind (Falco's item_type string), its name, and where."""

    item_type: str  # "rule", "macro", "list", "rules content", "value for", "condition expression", ...
    item_name: str
    name: str  # file name (or, for condition expressions, a quoted prefix of the condition)
    line: int = 0  # 0-based, as Falco reports it
    column: int = 0  # 0-based
    offset: int = 0  # character offset in the file

    def as_json(self) -> dict[str, Any]:
        return {
            "item_type": self.item_type,
            "item_name": self.item_name,
            "position": {"name": self.name, "line": self.line, "column": self.column, "offset": self.offset},
        }


@dataclass(frozen=True, slots=True)
class Context:
    """The chain of locations from the file down to the offending node (Falco's rule_loader::context)."""

    locations: tuple[Location, ...]
    snippet_pos: int = -1  # offset in the file for the snippet; -1 = use the last location's offset
    file: str = ""  # the file whose text the snippet comes from

    @staticmethod
    def of_file(name: str) -> Context:
        return Context((Location("rules content", "", name),), 0, name)

    def child(self, item_type: str, item_name: str, line: int, column: int, offset: int,
              name: str | None = None) -> Context:
        loc = Location(item_type, item_name, name if name is not None else self.file, line, column, offset)
        return Context(self.locations + (loc,), offset, self.file)

    @property
    def last(self) -> Location:
        return self.locations[-1]

    def as_string(self) -> str:
        out = []
        for i, loc in enumerate(self.locations):
            head = "In " if i == 0 else "    "
            named = f" '{loc.item_name}'" if loc.item_name else ""
            out.append(f"{head}{loc.item_type}{named}: ({loc.name}:{loc.line}:{loc.column})\n")
        return "".join(out)

    def as_json(self) -> dict[str, Any]:
        return {"locations": [loc.as_json() for loc in self.locations]}


def snippet(content: str | None, pos: int, width: int = 160) -> str:
    """The line holding ``pos`` (capped to width/2 either side) and a caret under the position."""
    if content is None:
        return "<No context available>\n"
    if not content:
        return "<No context available>\n"
    n = len(content)
    pos = min(max(pos, 0), n)
    while pos > 0 and (pos >= n or content[pos] == "\n"):
        pos -= 1
    half = width // 2
    start = pos
    while start > 0 and content[start] != "\n" and pos - start < half:
        start -= 1
    end = pos
    while end < n - 1 and content[end] != "\n" and end - pos < half:
        end += 1
    if start < n and content[start] == "\n":
        start += 1
    if end < n and content[end] == "\n":
        end -= 1
    text = content[start : end + 1]
    if not text:
        return "<No context available>\n"
    if pos - start >= half:
        text = "..." + text[3:]
    if end - pos >= half:
        text = text[:-3] + "..."
    text += "\n"
    if pos - start <= len(text) - 1:
        text += " " * (pos - start) + "^\n"
    return text


@dataclass(slots=True)
class LoadMessage:
    code: ErrorCode | WarningCode
    message: str
    context: Context

    @property
    def where(self) -> Location:
        """The most specific location, named by its file (condition-expression locations are named
        by the condition, as in Falco, but their line/column are positions in the file)."""
        last = self.context.last
        if last.item_type == "condition expression" and self.context.file:
            return Location(last.item_type, last.item_name, self.context.file, last.line, last.column, last.offset)
        return last

    @property
    def item(self) -> Location | None:
        """The rule/macro/list/... item the message is about."""
        for loc in self.context.locations[1:]:
            if loc.item_type not in ("value for", "rules content"):
                return loc
        return None

    def located(self, contents: dict[str, str] | None = None) -> str:
        """One line for logs: ``file:LINE:COL: <item kind> 'name': CODE: message`` (1-based line/column)."""
        loc = self.where
        item = self.item
        about = f"{item.item_type} '{item.item_name}': " if item and item.item_name else (
            f"{item.item_type}: " if item else "")
        return f"{loc.name}:{loc.line + 1}:{loc.column + 1}: {about}{self.code.name}: {self.message}"


@dataclass(slots=True)
class LoadResult:
    """The outcome of loading one rules file (Falco's falco::load_result)."""

    name: str
    contents: dict[str, str] = field(default_factory=dict)  # file name -> text, for snippets
    errors: list[LoadMessage] = field(default_factory=list)
    warnings: list[LoadMessage] = field(default_factory=list)

    @property
    def successful(self) -> bool:
        return not self.errors

    @property
    def content(self) -> str | None:
        """The text of this result's file."""
        return self.contents.get(self.name)

    @property
    def has_warnings(self) -> bool:
        return bool(self.warnings)

    def add_error(self, code: ErrorCode, message: str, ctx: Context) -> None:
        self.errors.append(LoadMessage(code, message, ctx))

    def add_warning(self, code: WarningCode, message: str, ctx: Context) -> None:
        self.warnings.append(LoadMessage(code, message, ctx))

    def _snippet(self, msg: LoadMessage, contents: dict[str, str]) -> str:
        ctx = msg.context
        text = contents.get(ctx.file)
        if text is None:
            text = self.contents.get(ctx.file)
        if text is None:
            return f"<No context for file + {ctx.last.name}>\n"
        return snippet(text, ctx.snippet_pos if ctx.snippet_pos >= 0 else ctx.last.offset)

    def as_summary_string(self) -> str:
        out = f"{self.name}: " if self.name else ""
        out += ("Ok" + (", with warnings" if self.warnings else "")) if self.successful else "Invalid"
        if self.errors:
            out += f"\n {len(self.errors)} errors: ["
            out += " ".join(f"{e.code.name} ({e.code.text})" for e in self.errors) + "]"
        if self.warnings:
            out += f"\n {len(self.warnings)} warnings: ["
            out += " ".join(f"{w.code.name} ({w.code.text})" for w in self.warnings) + "]"
        return out

    def as_verbose_string(self, contents: dict[str, str] | None = None) -> str:
        contents = contents or {}
        out = f"{self.name}: " if self.name else ""
        out += ("Ok" + (", with warnings" if self.warnings else "")) if self.successful else "Invalid"
        if self.errors:
            out += f"\n{len(self.errors)} Errors:\n"
            for e in self.errors:
                out += e.context.as_string() + "------\n" + self._snippet(e, contents) + "------\n"
                out += f"{e.code.name} ({e.code.text}): {e.message}\n"
        if self.warnings:
            out += f"\n{len(self.warnings)} Warnings:\n"
            for w in self.warnings:
                out += w.context.as_string() + "------\n" + self._snippet(w, contents) + "------\n"
                out += f"{w.code.name} ({w.code.text}): {w.message}\n"
        return out

    def as_string(self, verbose: bool = True, contents: dict[str, str] | None = None) -> str:
        return self.as_verbose_string(contents) if verbose else self.as_summary_string()

    def as_json(self, contents: dict[str, str] | None = None) -> dict[str, Any]:
        contents = contents or {}

        def one(m: LoadMessage) -> dict[str, Any]:
            ctx = m.context.as_json()
            ctx["snippet"] = self._snippet(m, contents)
            return {"context": ctx, "code": m.code.name, "codedesc": m.code.desc, "message": m.message}

        return {
            "name": self.name,
            "successful": self.successful,
            "errors": [one(e) for e in self.errors],
            "warnings": [one(w) for w in self.warnings],
        }


class RuleLoadError(Exception):
    """Raised inside the loader for the first problem of an item; becomes a LoadResult error."""

    def __init__(self, code: ErrorCode, message: str, ctx: Context) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ctx = ctx
