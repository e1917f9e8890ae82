"""Output formats: tokens, widths, transformers, <NA>, typed field dicts, errors, official rules."""

from __future__ import annotations

import pytest
import yaml

from tercel.engine.output_format import OutputFormatError, compile_output, render_value

from .fakefields import Evt, fake_fields


@pytest.fixture
def fields():
    with fake_fields():
        yield


def test_render(fields):
    fmt = compile_output("*shell=%tst.s n=%tst.i anc=%tst.anc[2] env=%tst.env[HOME] miss=%tst.s2 (%tst.b)")
    text, values = fmt.render(Evt({"tst.s": "bash", "tst.i": 7, "tst.anc[2]": "sshd", "tst.b": True,
                                   "tst.env[HOME]": "/root"}))
    assert text == "shell=bash n=7 anc=sshd env=/root miss=<NA> (true)"
    assert values == {"tst.s": "bash", "tst.i": 7, "tst.anc[2]": "sshd", "tst.env[HOME]": "/root",
                      "tst.s2": None, "tst.b": True}
    assert fmt.field_names == ["tst.s", "tst.i", "tst.anc[2]", "tst.env[HOME]", "tst.s2", "tst.b"]
    assert fmt.require_all is False


def test_width_transformers_and_literals(fields):
    fmt = compile_output("[%5tst.s][%2tst.s2] %toupper(tst.s) %len(tst.list) x%tst.s.y")
    text, values = fmt.render(Evt({"tst.s": "bash", "tst.s2": "abcdef", "tst.list": ("a", "b")}))
    assert text == "[bash ][ab] BASH 2 xbash.y"
    assert values["toupper(tst.s)"] == "BASH"
    assert values["len(tst.list)"] == 2
    assert compile_output("%tst.list %tst.buf").render(Evt({"tst.list": ("a", "b"), "tst.buf": b"ab\x00"}))[0] == \
        "(a,b) ab."
    assert compile_output("no fields").render(Evt())[0] == "no fields"
    strict = compile_output("%tst.s")
    assert strict.require_all and not strict.has_all_values(strict.render(Evt())[1])


@pytest.mark.parametrize("fmt, message, offset", [
    ("", "empty formatting token", 0),
    ("abc %", "formatting cannot end with a %", 4),
    ("abc %12", "formatting cannot end with a number", 4),
    ("x=%proc.nme y", "invalid formatting token proc.nme", 3),
    ("%nofield", "invalid formatting token nofield", 1),
    ("%fd.ip", "fd.ip is filter only and cannot be used as a display field", 1),
    ("%evt.arg", "filter evt.arg requires an argument", 1),
    ("%proc.aname[x]", "requires a numeric index argument", 1),
    ("%toupper(evt.num)", "is not supported by 'toupper' transformer", 1),
    ("%toupper(proc.name", "expected a ')' token closing the transformer", 18),
])
def test_errors(fmt, message, offset):
    with pytest.raises(OutputFormatError) as e:
        compile_output(fmt)
    assert message in e.value.message
    assert e.value.offset == offset


def test_dotted_and_bracket_args_with_the_catalog():
    fmt = compile_output("%evt.arg.flags %evt.arg[0] %proc.aname[2] %container.mount.dest[/etc] %evt.type.is.open")
    assert fmt.field_names == ["evt.arg.flags", "evt.arg[0]", "proc.aname[2]", "container.mount.dest[/etc]",
                               "evt.type.is.open"]


def test_render_value():
    assert render_value(None) == "<NA>"
    assert render_value(False) == "false"
    assert render_value(1.25) == "1.2"
    assert render_value(("a", 1, None)) == "(a,1,<NA>)"


def test_every_official_output_compiles(rules_dir):
    count = 0
    for path in sorted(rules_dir.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text()) or []:
            if isinstance(item, dict) and "output" in item:
                fmt = compile_output("*" + item["output"].strip())
                assert fmt.field_names, item["rule"]
                count += 1
    assert count == 93
