"""``tercel events -r CAPTURE [FILTER] [-p FORMAT]``: print the events of a capture that match a
filter, like ``sysdig -r``, for people writing rules. The default line is sysdig's:
``%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info``."""

from __future__ import annotations

import json
import sys
from typing import Any

from tercel.app import pipeline
from tercel.app.errors import AppError
from tercel.app.options import EventsArgs

DEFAULT_FORMAT = "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info"


def compile_filter(text: str) -> Any:
    """The filter as fn(event) -> bool, or None for "every event"; AppError with the offset when invalid."""
    if not text.strip():
        return None
    from tercel.engine import condition

    try:
        node = condition.expand(condition.parse(text), {}, {})  # no macros or lists outside rule files
        condition.validate(node)
        return condition.compile(node)
    except condition.ConditionError as exc:
        offset = exc.offset
        where = f" at offset {offset}" if offset >= 0 else ""
        caret = f"\n  {' ' * offset}^" if offset >= 0 else ""
        raise AppError(f"invalid filter{where}: {exc}\n  {text}{caret}") from None


def compile_format(fmt: str) -> Any:
    from tercel.engine.output_format import OutputFormatError, compile_output

    try:
        return compile_output(fmt)
    except OutputFormatError as exc:
        raise AppError(f"invalid format: {exc}") from None


EC_INTERNAL = 256  # libscap's category of internal events (procinfo...), which sysdig never prints


def _internal(evt: Any) -> bool:
    return bool(evt.info.category & EC_INTERNAL)


def run(args: EventsArgs) -> int:
    match = compile_filter(args.filter)
    # As sysdig -p: a format not starting with "*" skips events where one of its fields has no value.
    out_fmt = compile_format(args.print_format or DEFAULT_FORMAT)
    source = pipeline.open_capture(args.capture)
    inspector = pipeline.make_inspector(source)
    errors = pipeline.capture_error_types()
    write = sys.stdout.write
    shown = 0
    try:
        for buf, offset, cpu, flags in source:
            evt = inspector.process(buf, offset, cpu, flags)
            if evt is None or _internal(evt) or (match is not None and not match(evt)):
                continue
            text, fields = out_fmt.render(evt)
            if not out_fmt.has_all_values(fields):
                continue
            if args.json:
                write(json.dumps(fields, ensure_ascii=False, default=str) + "\n")
            else:
                write(text + "\n")
            shown += 1
            if args.limit and shown >= args.limit:
                break
    except errors as exc:
        sys.stdout.flush()
        raise AppError(f"capture file {args.capture}: {exc}") from None
    sys.stdout.flush()
    return 0
