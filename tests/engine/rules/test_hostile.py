"""Hostile rule files: a clear, located error quickly, never a traceback or a blow-up."""

from __future__ import annotations

import time

import pytest

from tercel.engine.rules import RuleLoader, validate_files


def _bomb(levels: int = 7) -> str:
    """An exception whose values nest aliases 10 wide and ``levels`` deep (10**levels entries)."""
    node = "&a0 [x, x, x, x, x, x, x, x, x, x]"
    for i in range(1, levels):
        node = f"&a{i} [{node}" + f", *a{i - 1}" * 9 + "]"
    return ("- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: INFO\n  exceptions:\n"
            f"    - name: e\n      fields: [proc.name]\n      values: {node}\n")


BOMB = _bomb()


def _macro_doubling(levels: int = 40) -> str:
    """Each macro uses the previous one twice: a few KB of text, 2**levels nodes once expanded."""
    out = ["- macro: m0\n  condition: proc.name=a\n"]
    out += [f"- macro: m{i}\n  condition: m{i - 1} or (m{i - 1} and proc.name=b)\n" for i in range(1, levels)]
    out.append(f"- rule: r\n  desc: d\n  condition: evt.type=open and m{levels - 1}\n  output: o\n  priority: INFO\n")
    return "".join(out)

CASES = {
    "deep_flow": ("[" * 200_000, "LOAD_ERR_YAML_PARSE", "exceeded maximum nesting depth"),
    "control_chars": ("\x00\x01\x02", "LOAD_ERR_YAML_PARSE", "unacceptable character"),
    "python_tag": ("- !!python/object:os.system [echo]\n", "LOAD_ERR_YAML_VALIDATE", "Unexpected element type"),
    "alias_bomb_in_exception": (BOMB, "LOAD_ERR_YAML_VALIDATE", "Too many exception values"),
    "deep_condition": ("- macro: m\n  condition: " + "(" * 5000 + "evt.type=open" + ")" * 5000 + "\n",
                       "LOAD_ERR_COMPILE_CONDITION", ""),
    "macro_doubling": (_macro_doubling(), "LOAD_ERR_VALIDATE", "nodes once macros are expanded"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile(name: str) -> None:
    text, code, msg = CASES[name]
    t0 = time.perf_counter()
    res = RuleLoader().load_content(text, name)
    assert time.perf_counter() - t0 < 5
    assert [e.code.name for e in res.errors] == [code], res.as_verbose_string()
    assert msg in res.errors[0].message
    assert res.as_verbose_string() and res.as_json()


def test_missing_file_and_directory_entries(tmp_path):
    (res,) = validate_files([tmp_path / "nope.yaml"])
    assert [e.code.name for e in res.errors] == ["LOAD_ERR_FILE_READ"]
    assert "Could not open file" in res.errors[0].message and str(tmp_path / "nope.yaml") in res.errors[0].message
    assert validate_files([tmp_path]) == []  # an empty directory has no rule files


def test_compiled_output_cache_stays_bounded() -> None:
    # a daemon reloading rule files whose outputs keep changing must not keep every old format
    from tercel.engine.rules import condapi

    for i in range(6000):
        condapi.compile_output(f"cached output {i} %proc.name")
    assert len(condapi._output_cache) <= 5001
