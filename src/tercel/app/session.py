"""One run of tercel: rules loaded and selected, outputs started, events processed (replay or live),
signals handled (SIGINT/SIGTERM stop, SIGHUP reload, SIGUSR1 reopen outputs), summary printed."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from tercel.app import engine_api as ea
from tercel.app import log
from tercel.app.config import Config
from tercel.app.errors import AppError
from tercel.app.rulesfiles import expand


class Session:
    def __init__(self, cfg: Config, ns: argparse.Namespace, overrides: list[str] | None = None) -> None:
        self.cfg = cfg
        self.ns = ns
        self.overrides = list(overrides or [])
        self.ruleset: Any = None
        self.rule_files: list[str] = []
        self.stop_requested = False
        self.reload_requested = False
        self.reopen_requested = False
        self.reload_reason = ""
        self.metrics: Any = None  # the current run's tercel.app.metrics.Metrics (for /metrics)

    # ------------------------------------------------------------ rules

    def load_rules(self) -> None:
        ns, cfg = self.ns, self.cfg
        if ns.rules:
            files = expand(ns.rules, missing_ok=False)
        else:
            files = expand(cfg.rules_files, missing_ok=True)
        if not files:
            raise AppError("You must specify at least one rules file/directory (-r or rules_files)")
        log.info("Loading rules from:")
        for f in files:
            log.info("   " + f)
        loaded = ea.load_rules(files, cfg)
        for res in loaded.results:
            if not res.successful:
                sys.stderr.write(res.as_verbose_string())
                raise AppError(f"Could not load rules file {res.name}: {len(res.errors)} errors")
            if res.has_warnings:
                log.warning(res.as_verbose_string())
        self.ruleset = loaded.ruleset
        self.rule_files = files
        ea.apply_selection(self.ruleset, cfg, disable_substr=ns.disable_substr, enable_tags=ns.enable_tags,
                           disable_tags=ns.disable_tags)
        from tercel.app.append_output import apply as apply_append_output

        apply_append_output(self.ruleset, cfg, ns.print_format)

    def reload(self) -> None:
        """SIGHUP: read the configuration and the rules again (a bad new version keeps the old one)."""
        from tercel.app.config import ConfigError, load_config

        old = self.cfg, self.ruleset, self.rule_files
        try:
            self.cfg = load_config(self.ns.config, self.overrides)
            self.load_rules()
        except (ConfigError, AppError) as exc:
            log.log("error", f"reload failed, keeping the previous configuration and rules: {exc}")
            self.cfg, self.ruleset, self.rule_files = old

    def rule_names(self) -> list[str]:
        return [r.name for r in self.ruleset.rules]

    # ------------------------------------------------------------ outputs

    def _outputs_error(self, exc: Any) -> AppError:
        """The outputs layer names the key; add the file and line it came from."""
        key = getattr(exc, "key", "")
        pos = self.cfg.where(key) if key else None
        where = f"{pos}: " if pos is not None else ""
        return AppError(f"configuration error: {where}key '{key}': {getattr(exc, 'problem', exc)}"
                        if key else f"configuration error: {exc}")

    def check_outputs(self) -> None:
        """Validate the outputs part of the configuration without starting any channel (--dry-run)."""
        from tercel.outputs.build import load
        from tercel.outputs.config import ConfigError as OutputsConfigError

        try:
            load(self.cfg.as_dict())
        except OutputsConfigError as exc:
            raise self._outputs_error(exc) from None

    def make_outputs(self) -> Any:
        from tercel.outputs.config import ConfigError as OutputsConfigError
        from tercel.outputs.dispatcher import Dispatcher

        try:
            return Dispatcher.from_config(self.cfg.as_dict())
        except OutputsConfigError as exc:
            raise self._outputs_error(exc) from None

    # ------------------------------------------------------------ run

    def run(self) -> int:
        kind = self.cfg.engine_kind
        if kind == "replay":
            capture = self.cfg.replay_file
            if not capture:
                raise AppError("engine.kind is replay but engine.replay.capture_file is empty (use -e CAPTURE)")
            from tercel.app.replay import replay

            return replay(self, capture)
        if kind == "nodriver":
            from tercel.app.live import run_nodriver

            return run_nodriver(self)
        if kind in ("kmod", "gvisor", "ebpf"):
            raise AppError(f"engine.kind={kind} is not supported by tercel: use modern_ebpf (live) or replay")
        from tercel.app.live import run_live

        return run_live(self)

    def install_signals(self) -> dict[int, Any]:
        """Flags only: the event loop checks them between events (a handler must not do the work)."""
        def stop(signum: int, _frame: Any) -> None:
            self.stop_requested = True

        def hup(_signum: int, _frame: Any) -> None:
            self.reload_requested = True

        def usr1(_signum: int, _frame: Any) -> None:
            self.reopen_requested = True

        old: dict[int, Any] = {}
        for sig, fn in ((signal.SIGINT, stop), (signal.SIGTERM, stop), (signal.SIGHUP, hup), (signal.SIGUSR1, usr1)):
            try:
                old[sig] = signal.signal(sig, fn)
            except (ValueError, OSError):  # not the main thread
                pass
        return old

    @staticmethod
    def restore_signals(old: dict[int, Any]) -> None:
        for sig, fn in old.items():
            try:
                signal.signal(sig, fn)
            except (ValueError, OSError, TypeError):
                pass

    def write_pidfile(self) -> None:
        if self.ns.pidfile:
            try:
                with open(self.ns.pidfile, "w") as fh:
                    fh.write(f"{os.getpid()}\n")
            except OSError as exc:
                raise AppError(f"cannot write pid file {self.ns.pidfile}: {exc.strerror or exc}") from None
