"""Rule files -> Ruleset, with Falco's semantics, load results and error codes.

Public API (used by the CLI):

    ruleset, results = load_rules(["/etc/falco/falco_rules.yaml", "rules.d/"],
                                  min_priority="notice", selectors=[{"disable": {"tag": "network"}}],
                                  rule_matching="first")
    if not all(r.successful for r in results): ...           # print r.as_verbose_string(), exit 1
    alerts = ruleset.process(evt)                             # list[Alert]
    ruleset.event_types()                                     # frozenset of evt.type names, None = all

    results = validate_files(paths)                           # falco -V
    stdout, stderr, ok = format_validation(results, json_output=False)
"""

from tercel.engine.rules.compiler import CompiledList, CompiledMacro, CompiledRule, CompileOutput
from tercel.engine.rules.loader import (
    BUILTIN_PLUGINS,
    RuleLoader,
    format_validation,
    load_rules,
    rule_files,
    validate_files,
)
from tercel.engine.rules.results import (
    Context,
    ErrorCode,
    LoadMessage,
    LoadResult,
    Location,
    WarningCode,
)
from tercel.engine.rules.ruleset import Ruleset, Selector

__all__ = [
    "BUILTIN_PLUGINS",
    "CompileOutput",
    "CompiledList",
    "CompiledMacro",
    "CompiledRule",
    "Context",
    "ErrorCode",
    "LoadMessage",
    "LoadResult",
    "Location",
    "RuleLoader",
    "Ruleset",
    "Selector",
    "WarningCode",
    "format_validation",
    "load_rules",
    "rule_files",
    "validate_files",
]
