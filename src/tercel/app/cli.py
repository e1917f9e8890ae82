"""The ``tercel`` command line: Falco's flags and start-up order (print/list actions, load config,
validate, load rules, describe, then replay or live), and the ``events`` / ``capture`` subcommands.

Every failure the user can cause (bad flags, config, rule files, captures) ends as one clear line on
stderr and exit code 1, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from tercel import __version__
from tercel.app import info, listing, log
from tercel.app.config import ConfigError, load_config
from tercel.app.errors import AppError
from tercel.app.options import UsageError, help_text, parse_capture, parse_events, parse_main


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        if args and args[0] == "events":
            from tercel.app.events_cmd import run as run_events

            return run_events(parse_events(args[1:]))
        if args and args[0] == "capture":
            from tercel.app.capture_cmd import run as run_capture

            return run_capture(parse_capture(args[1:]))
        if args and args[0] in ("-h", "--help"):
            sys.stdout.write(help_text())
            return 0
        return _run(parse_main(args), args)
    except UsageError as exc:
        _err(f"{exc}\nRun 'tercel --help' for the list of options.")
        return 1
    except ConfigError as exc:
        _err(f"configuration error: {exc}")
        return 1
    except AppError as exc:
        _err(str(exc))
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `tercel -L | head`: the reader went away; not an error
        try:
            sys.stdout = open("/dev/null", "w")  # silence the flush at exit
        except OSError:
            pass
        return 0
    except Exception as exc:  # a bug, not the user's input: one line, the traceback on request
        if os.environ.get("TERCEL_DEBUG"):
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} (set TERCEL_DEBUG=1 for the traceback)")
        return 2


def _err(message: str) -> None:
    sys.stderr.write(f"tercel: {message}\n")
    sys.stderr.flush()


def _overrides(ns: argparse.Namespace) -> list[str]:
    """Removed Falco flags become the config keys that replaced them; explicit -o come last and win."""
    out: list[str] = []
    if ns.capture_file:
        out += ["engine.kind=replay", "engine.replay.capture_file=" + ns.capture_file]  # value: verbatim
    if ns.nodriver:
        out.append("engine.kind=nodriver")
    if ns.all_events:
        out.append("base_syscalls.all=true")
    if ns.snaplen is not None:
        out.append(f"falco_libs.snaplen={ns.snaplen}")
    if ns.base64:
        out.append("buffer_format_base64=true")
    if ns.unbuffered:
        out.append("buffered_outputs=false")
    return out + list(ns.options)


KNOWN_SOURCES = ("syscall",)


def _check_sources(ns: argparse.Namespace) -> None:
    """--enable-source / --disable-source: tercel has one source, syscall (plugins are not loaded)."""
    for src in [*ns.enable_source, *ns.disable_source]:
        if src not in KNOWN_SOURCES:
            raise AppError(f"Attempted enabling/disabling an unknown event source: {src}")
    if ns.disable_source and set(KNOWN_SOURCES) <= set(ns.disable_source):
        raise AppError("Must enable at least one event source")


def _run(ns: argparse.Namespace, argv: list[str]) -> int:
    if ns.config_schema:
        from tercel.app.schema_json import config_schema

        print(json.dumps(config_schema(), indent=2))
        return 0
    if ns.rule_schema:
        from tercel.app.schema_json import rule_schema

        print(json.dumps(rule_schema(), indent=2))
        return 0
    cfg = load_config(ns.config, _overrides(ns))
    log.configure(stderr=bool(cfg.get("log_stderr")), level=str(cfg.get("log_level")),
                  iso8601=cfg.time_format_iso_8601, use_syslog=bool(cfg.get("log_syslog")))
    if ns.verbose:
        log.configure(stderr=True, level="debug", iso8601=cfg.time_format_iso_8601,
                      use_syslog=bool(cfg.get("log_syslog")))
    for w in cfg.warnings:  # about the configuration itself: shown even when log_stderr is off
        sys.stderr.write(f"tercel: warning: {w}\n")
    _check_sources(ns)
    for flag, given in (("-s", ns.stats_file), ("--stats-interval", ns.stats_interval), ("-d", ns.daemon),
                        ("-u", ns.userspace), ("-k", ns.k8s_api), ("-K", ns.k8s_api_cert),
                        ("--k8s-node", ns.k8s_node), ("--cri", ns.cri), ("--disable-cri-async", ns.disable_cri_async)):
        if given:
            sys.stderr.write(f"tercel: warning: {flag} was removed from Falco and has no effect here\n")
    if ns.version:
        sys.stdout.write(info.version_json() + "\n" if cfg.json_output else info.version_text())
        return 0
    if ns.page_size:
        sys.stdout.write(info.page_size_text())
        return 0
    if ns.list_events or ns.list_events_old:
        sys.stdout.write(listing.list_events(ns.list_format or ("markdown" if ns.markdown else "text")))
        return 0
    if ns.print_ignored:
        sys.stdout.write(listing.ignored_events_text())
        return 0
    if ns.list_plugins:
        print("0 Plugins Loaded:")
        return 0
    if ns.plugin_info:
        raise AppError(f"plugin '{ns.plugin_info}' is not loaded (tercel loads no plugins)")
    if ns.list_fields is not None:
        try:
            sys.stdout.write(listing.list_fields(
                ns.list_fields, names_only=ns.names_only,
                fmt=ns.list_format or ("markdown" if ns.markdown else "text"), verbose=ns.verbose))
        except ValueError as exc:
            raise AppError(str(exc)) from None
        return 0
    if ns.support:
        from tercel.app.rulesfiles import expand

        rules = expand(ns.rules or cfg.rules_files, missing_ok=True)
        print(json.dumps(info.support(cfg.files, rules, argv), indent=2))
        return 0
    describing = ns.describe_all or ns.describe_rule is not None
    if not ns.validate and not describing and not ns.dry_run and cfg.engine_kind == "modern_ebpf":
        from tercel.app.live import check_available

        check_available()  # first: "no live capture here" is the one line the user needs
    log.info(f"Tercel version: {__version__} ({platform.machine()})")
    log.info("Tercel initialized with configuration files:")
    for f in cfg.files:
        log.info(f"   {f}")
    if ns.validate:
        from tercel.app.validate import validate

        return validate(ns.validate, cfg, describe_all=ns.describe_all, describe_rule=ns.describe_rule)
    from tercel.app.session import Session

    session = Session(cfg, ns, _overrides(ns))
    session.load_rules()
    if describing:
        from tercel.app.describe import describe

        return describe(session, ns.describe_rule, cfg)
    if ns.dry_run:
        session.check_outputs()
        log.debug("Skipping event processing in dry-run")
        return 0
    return session.run()
