"""Falco's alert shapes: the text line and the JSON alert, plus the escaping and size cap that keep
hostile event data (newlines, ANSI escapes, invalid UTF-8) from forging lines or breaking consumers.

Text line (Falco ``falco_outputs::handle_event``): ``<evt.time>: <Priority> <message>`` where
``evt.time`` is ``HH:MM:SS.nnnnnnnnn`` in local time, or with ``time_format_iso_8601``
``YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000`` (UTC). JSON alert (``falco_formats::format_event``): an
nlohmann object, so keys are sorted and the dump is compact, ``time`` is RFC 3339 UTC with
nanoseconds and a ``Z``; ``tags`` is a sorted set. Internal alerts (source ``internal``,
``handle_msg``) carry their fields in the text line as `` (k=v ...)`` and have no ``tags``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from tercel.engine.alert import Alert

# Characters that must not reach a terminal or a line-based log verbatim: C0/C1 controls and DEL,
# Unicode line/paragraph separators, bidi overrides ("trojan source"), and lone surrogates (the
# `surrogateescape` form of invalid UTF-8 bytes in decoded event data).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")
TRUNCATION_MARK = "...[truncated]"


def _escape_char(m: re.Match[str]) -> str:
    c = m.group()
    short = _SHORT.get(c)
    if short is not None:
        return short
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # an invalid input byte, kept by surrogateescape: show the byte
        return f"\\x{o - 0xDC00:02x}"
    if o <= 0xFF:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}"


def escape_text(s: str) -> str:
    """Make `s` safe for one line of text: controls as ``\\n``/``\\xNN``, invalid bytes as ``\\xNN``."""
    if _UNSAFE.search(s) is None:
        return s
    return _UNSAFE.sub(_escape_char, s)


def valid_unicode(s: str) -> str:
    """Replace lone surrogates (invalid UTF-8 input bytes) with U+FFFD so the text encodes as UTF-8."""
    if s.isascii() or _SURROGATE.search(s) is None:
        return s
    return _SURROGATE.sub("\ufffd", s)


def cap_text(s: str, limit: int) -> str:
    """Cut `s` to at most `limit` characters (0 = no limit), marking the cut."""
    if limit <= 0 or len(s) <= limit:
        return s
    if limit <= len(TRUNCATION_MARK):
        return s[:limit]
    return s[: limit - len(TRUNCATION_MARK)] + TRUNCATION_MARK


# --- time formats -------------------------------------------------------------------------------

_gmtoff_cache: tuple[float, int] = (0.0, 0)


def _local_offset() -> int:
    """The current UTC offset in seconds, like libs' gmt2local(0) (re-read at most once a minute)."""
    global _gmtoff_cache
    now = time.monotonic()
    checked, off = _gmtoff_cache
    if now - checked > 60.0 or checked == 0.0:
        off = time.localtime().tm_gmtoff
        _gmtoff_cache = (now, off)
    return off


def time_local(ts_ns: int) -> str:
    """``evt.time``: ``HH:MM:SS.nnnnnnnnn`` in local time."""
    sec, ns = divmod(ts_ns, 1_000_000_000)
    s = (sec + _local_offset()) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}.{ns:09d}"


def time_iso8601(ts_ns: int) -> str:
    """``evt.time.iso8601``: ``2026-11-26T17:48:03.397268199+0000`` (UTC)."""
    sec, ns = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{ns:09d}+0000"


def time_rfc3339(ts_ns: int) -> str:
    """The JSON ``time`` key: ``2026-11-26T17:48:03.397268199Z``."""
    sec, ns = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{ns:09d}Z"


# --- text ---------------------------------------------------------------------------------------


def _json_value(v: Any) -> str:
    return json.dumps(_jsonable(v), ensure_ascii=False, separators=(",", ":"))


def raw_line(alert: Alert, *, iso8601: bool) -> str:
    """The unescaped Falco line (what goes into the JSON ``output`` property)."""
    t = time_iso8601(alert.time_ns) if iso8601 else time_local(alert.time_ns)
    line = f"{t}: {alert.priority.label} {alert.message}"
    if alert.source == "internal" and alert.output_fields:
        # falco_outputs::handle_msg appends the fields of internal alerts as k=<json value>
        line += " (" + " ".join(f"{k}={_json_value(v)}" for k, v in alert.output_fields.items()) + ")"
    return line


def format_text(alert: Alert, *, iso8601: bool, max_size: int = 0) -> str:
    """Falco's text alert, escaped to a single safe line and capped at `max_size` characters."""
    line = raw_line(alert, iso8601=iso8601)
    if max_size > 0 and len(line) > max_size:
        line = line[: max_size + 1]  # escaping only grows a line: don't escape what will be cut anyway
    return cap_text(escape_text(line), max_size)


# --- JSON ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonOptions:
    """The json_include_* options plus what else shapes the JSON alert."""

    include_output: bool = True  # json_include_output_property
    include_output_fields: bool = True  # json_include_output_fields_property
    include_tags: bool = True  # json_include_tags_property
    include_message: bool = False  # json_include_message_property
    iso8601: bool = False  # time_format_iso_8601: the time format inside "output"
    hostname: str = ""  # used when the alert carries none
    max_size: int = 0  # characters; 0 = no cap


_SIMPLE = frozenset({str, int, bool, float, type(None)})


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "surrogateescape")
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_jsonable(x) for x in v]
    return str(v)


def _fields(fields: dict[str, Any]) -> dict[str, Any]:
    if all(type(v) in _SIMPLE for v in fields.values()):
        return dict(fields)  # the common case: already JSON values
    return {str(k): _jsonable(v) for k, v in fields.items()}


def alert_dict(alert: Alert, options: JsonOptions) -> dict[str, Any]:
    """The JSON alert as a dict (values may still hold lone surrogates)."""
    internal = alert.source == "internal"
    d: dict[str, Any] = {
        "time": time_rfc3339(alert.time_ns),
        "rule": alert.rule,
        "priority": alert.priority.label,
        "source": alert.source,
        "hostname": alert.hostname or options.hostname,
    }
    if internal:
        # handle_msg: "output" is the bare message, fields always present, no tags
        d["output"] = alert.message
        d["output_fields"] = _fields(alert.output_fields)
        return d
    if options.include_output:
        d["output"] = raw_line(alert, iso8601=options.iso8601)
    if options.include_tags:
        d["tags"] = sorted(set(alert.tags))
    if options.include_message:
        d["message"] = alert.message
    if options.include_output_fields:
        d["output_fields"] = _fields(alert.output_fields)
    return d


def dump_json(d: dict[str, Any]) -> str:
    """nlohmann's compact, key-sorted dump, always valid UTF-8."""
    out = json.dumps(d, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return valid_unicode(out)


def _level(lengths: list[int], excess: int) -> int:
    """The length L such that cutting every string longer than L down to L removes `excess` chars."""
    lens = sorted(lengths, reverse=True)
    total = 0
    for i, n in enumerate(lens):
        total += n
        level = (total - excess) // (i + 1)
        nxt = lens[i + 1] if i + 1 < len(lens) else 0
        if level >= nxt:
            return max(level, 0)
    return 0


def _shrink(d: dict[str, Any], limit: int) -> str:
    """Cut the longest strings (output, message, field values) evenly until the dump fits."""
    out = dump_json(d)
    for _ in range(16):
        excess = len(out) - limit
        if excess <= 0:
            break
        slots: list[tuple[dict[str, Any], str]] = [
            (d, k) for k in ("output", "message") if isinstance(d.get(k), str)
        ]
        fields = d.get("output_fields")
        if isinstance(fields, dict):
            slots += [(fields, k) for k, v in fields.items() if isinstance(v, str)]
        if not slots:
            break
        # work in dump cost, not characters: an escaped control character costs 6
        costs = [len(json.dumps(box[k], ensure_ascii=False)) - 2 for box, k in slots]
        level = _level(costs, excess)
        changed = False
        for (box, k), cost in zip(slots, costs, strict=True):
            if cost > level:
                keep = len(box[k]) * level // cost
                box[k] = cap_text(box[k], keep) if keep > 0 else ""
                changed = True
        if not changed:
            break
        out = dump_json(d)  # escaping makes some characters cost more: measure again
    return out


def format_json(alert: Alert, options: JsonOptions = JsonOptions()) -> str:
    """Falco's JSON alert (one line, no newline), valid UTF-8, capped at ``options.max_size``."""
    d = alert_dict(alert, options)
    out = dump_json(d)
    if options.max_size > 0 and len(out) > options.max_size:
        out = _shrink(d, options.max_size)
    return out
