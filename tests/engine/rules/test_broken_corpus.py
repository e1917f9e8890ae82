"""Every file under broken/ has one problem: loading it gives exactly that error (code, message,
the file line marked ``# <-- here``), in text and JSON, and never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tercel.engine.rules import validate_files

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))


def _expect(path: Path) -> tuple[str, str, int | None]:
    raw = path.read_bytes().decode("utf-8", "replace")
    code = re.search(r"^# code: (\S+)", raw, re.M)
    msg = re.search(r"^# message: (.*)$", raw, re.M)
    assert code, f"{path.name} has no '# code:' header"
    line = next((i + 1 for i, text in enumerate(raw.splitlines()) if "# <-- here" in text), None)
    return code.group(1), msg.group(1) if msg else "", line


def test_corpus_is_big_enough():
    assert len(BROKEN) >= 40


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_file(path: Path) -> None:
    code, message, line = _expect(path)
    (res,) = validate_files([str(path)])
    assert not res.successful
    assert len(res.errors) == 1, [e.message for e in res.errors]
    err = res.errors[0]
    assert err.code.name == code, err.message
    assert message in err.message
    assert err.message.strip(), "an error must say what is wrong"
    where = err.where
    assert where.name == str(path)
    if line is not None:
        assert where.line + 1 == line, (err.located(), res.as_verbose_string())
        assert err.located().startswith(f"{path}:{line}:")
    text = res.as_verbose_string()
    assert f"{path}: Invalid" in text
    assert f"{code} (" in text and err.message in text
    assert f"({path}:" in text  # locations name the file
    doc = json.loads(json.dumps({"falco_load_results": [res.as_json()]}))
    jerr = doc["falco_load_results"][0]["errors"][0]
    assert jerr["code"] == code and jerr["message"] == err.message
    assert jerr["context"]["locations"][0]["position"]["name"] == str(path)
    assert "snippet" in jerr["context"]
