"""Command-line options: Falco 0.44's flags, the removed ones people still use (0.35-0.41:
``-e``, ``-D``, ``-t``, ``-T``, ``-A``, ``-S``, ``-s``...), and the ``events`` / ``capture`` subcommands."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

EPILOG = """\
subcommands:
  tercel events -r CAPTURE [FILTER] [-p FORMAT]   print the events of a capture that match a filter
  tercel capture -w FILE [-M SECONDS] [FILTER]    record a capture with the eBPF driver

examples:
  tercel -V rules.yaml                            validate a rules file
  tercel -r rules.yaml -e capture.scap            replay a capture through rules
  tercel -o json_output=true -r rules.yaml -L     list rules as JSON
"""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _main_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="tercel",
        description="tercel: runtime security for Linux hosts and containers (Falco-compatible rules)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=True,
    )
    a = p.add_argument
    a("-c", dest="config", metavar="PATH", help="configuration file (default /etc/tercel/tercel.yaml "
      "when it exists, else the built-in one)")
    a("--config-schema", action="store_true", help="print the JSON schema of the configuration and exit")
    a("--rule-schema", action="store_true", help="print the JSON schema of rule files and exit")
    a("--disable-source", action="append", default=[], metavar="SOURCE", help="disable an event source")
    a("--enable-source", action="append", default=[], metavar="SOURCE", help="enable only these event sources")
    a("--dry-run", action="store_true", help="load configuration and rules, process no events")
    a("-i", dest="print_ignored", action="store_true",
      help="print the events ignored by default (without -A) and exit")
    a("-L", dest="describe_all", action="store_true",
      help="show the name and description of every rule and exit (JSON with json_output)")
    a("-l", dest="describe_rule", metavar="RULE", help="show the name and description of one rule and exit")
    a("--list", dest="list_fields", nargs="?", const="", default=None, metavar="SOURCE",
      help="list the fields (of one source) and exit")
    a("--list-events", action="store_true", help="list the syscall and meta events and exit")
    a("--list-plugins", action="store_true", help="print the loaded plugins and exit")
    a("-M", dest="duration", type=int, default=0, metavar="SECONDS", help="stop after SECONDS seconds")
    a("--markdown", action="store_true", help="deprecated: --format markdown")
    a("--format", dest="list_format", choices=("text", "markdown", "json"), default=None,
      help="output format of --list and --list-events")
    a("-N", dest="names_only", action="store_true", help="with --list, print only the field names")
    a("-o", "--option", dest="options", action="append", default=[], metavar="KEY=VALUE",
      help="set a configuration key (a.b=v, list[1]=v, rules[].enable.tag=x; '\\' escapes . [ ])")
    a("--plugin-info", metavar="PLUGIN", help="print a plugin's information and exit")
    a("-p", "--print", dest="print_format", metavar="FORMAT",
      help="deprecated: append FORMAT to every rule output (-pc: container, -pk: kubernetes)")
    a("-P", "--pidfile", metavar="PATH", help="write the process id to PATH")
    a("-r", dest="rules", action="append", default=[], metavar="RULES",
      help="rules file or directory (repeatable; replaces rules_files)")
    a("--support", action="store_true", help="print support information as JSON and exit")
    a("-U", "--unbuffered", action="store_true", help="flush outputs on every alert")
    a("-V", "--validate", action="append", default=[], metavar="RULES",
      help="validate rules file(s) and exit (repeatable)")
    a("-v", dest="verbose", action="store_true", help="verbose output")
    a("--version", action="store_true", help="print version information and exit (JSON with json_output)")
    a("--page-size", action="store_true", help="print the system page size and exit")
    # Removed from Falco by 0.42, still in scripts and docs: accepted, mapped to the current config.
    old = p.add_argument_group("flags removed from Falco, still accepted")
    o = old.add_argument
    o("-e", dest="capture_file", metavar="CAPTURE", help="replay a .scap capture (engine.kind=replay)")
    o("-D", dest="disable_substr", action="append", default=[], metavar="SUBSTRING",
      help="disable the rules whose names contain SUBSTRING (repeatable)")
    o("-t", dest="enable_tags", action="append", default=[], metavar="TAG",
      help="enable only the rules with one of these tags (repeatable)")
    o("-T", dest="disable_tags", action="append", default=[], metavar="TAG",
      help="disable the rules with this tag (repeatable)")
    o("-A", dest="all_events", action="store_true",
      help="monitor all events, including those ignored by default (base_syscalls.all)")
    o("-S", "--snaplen", dest="snaplen", type=int, metavar="LEN", help="bytes of I/O buffers to capture "
      "(falco_libs.snaplen)")
    o("-s", dest="stats_file", metavar="FILE", help="write statistics to FILE (ignored: see metrics)")
    o("--stats-interval", dest="stats_interval", metavar="MS", help="statistics interval (ignored)")
    o("-b", "--print-base64", dest="base64", action="store_true", help="print data buffers as base64")
    o("-d", "--daemon", dest="daemon", action="store_true", help="run in the background (ignored)")
    o("-u", "--userspace", dest="userspace", action="store_true", help="ignored")
    o("--modern-bpf", dest="modern_bpf", action="store_true", help="use the eBPF driver (the default)")
    o("--nodriver", dest="nodriver", action="store_true", help="capture no events (engine.kind=nodriver)")
    o("-k", "--k8s-api", dest="k8s_api", metavar="URL", help="ignored (k8smeta plugin)")
    o("-K", "--k8s-api-cert", dest="k8s_api_cert", metavar="FILE", help="ignored")
    o("--k8s-node", dest="k8s_node", metavar="NAME", help="ignored")
    o("--cri", dest="cri", action="append", default=[], metavar="PATH", help="ignored (container plugin)")
    o("--disable-cri-async", action="store_true", help="ignored")
    o("--list-syscall-events", dest="list_events_old", action="store_true", help="same as --list-events")
    return p


@dataclass
class EventsArgs:
    capture: str
    filter: str
    print_format: str | None
    limit: int
    json: bool


def _events_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tercel events", description="print the events of a capture that match a filter "
                "(like sysdig -r)")
    p.add_argument("-r", dest="capture", required=True, metavar="CAPTURE", help="the .scap file to read")
    p.add_argument("-p", "--print", dest="print_format", metavar="FORMAT",
                   help="output format with %%field tokens (default: sysdig's event line)")
    p.add_argument("-n", "--count", dest="limit", type=int, default=0, metavar="N",
                   help="stop after N matching events")
    p.add_argument("-j", "--json", action="store_true", help="one JSON object per event")
    p.add_argument("filter", nargs="*", help="filter in the condition language (joined with spaces)")
    return p


@dataclass
class CaptureArgs:
    output: str
    duration: int
    filter: str
    limit: int
    snaplen: int


def _capture_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tercel capture", description="record events with the eBPF driver into a .scap file "
                "(gzip-compressed when FILE ends with .gz)")
    p.add_argument("-w", dest="output", required=True, metavar="FILE", help="the .scap file to write")
    p.add_argument("-M", dest="duration", type=int, default=0, metavar="SECONDS", help="stop after SECONDS")
    p.add_argument("-n", "--count", dest="limit", type=int, default=0, metavar="N", help="stop after N events")
    p.add_argument("-s", "--snaplen", dest="snaplen", type=int, default=80, metavar="LEN",
                   help="bytes of I/O buffers to keep (default 80)")
    p.add_argument("filter", nargs="*", help="only write events matching this filter")
    return p


def parse_main(argv: list[str]) -> argparse.Namespace:
    ns = _main_parser().parse_args(argv)
    if ns.enable_tags and (ns.disable_tags or ns.disable_substr):
        raise UsageError("-t cannot be combined with -T or -D")
    if ns.enable_source and ns.disable_source:
        raise UsageError("--enable-source and --disable-source cannot be combined")
    if ns.markdown and ns.list_format:
        raise UsageError("--markdown cannot be combined with --format")
    if ns.duration < 0:
        raise UsageError("-M needs a number of seconds >= 0")
    return ns


def parse_events(argv: list[str]) -> EventsArgs:
    ns = _events_parser().parse_args(argv)
    return EventsArgs(ns.capture, " ".join(ns.filter), ns.print_format, ns.limit, ns.json)


def parse_capture(argv: list[str]) -> CaptureArgs:
    ns = _capture_parser().parse_args(argv)
    if ns.duration < 0:
        raise UsageError("-M needs a number of seconds >= 0")
    if ns.snaplen < 0:
        raise UsageError("-s needs a number of bytes >= 0")
    return CaptureArgs(ns.output, ns.duration, " ".join(ns.filter), ns.limit, ns.snaplen)


def help_text() -> str:
    return _main_parser().format_help()
