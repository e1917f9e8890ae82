"""Accept/reject cases and node positions from libsinsp's own parser tests (filter_parser.ut.cpp),
so that tercel accepts exactly the conditions Falco accepts."""

from __future__ import annotations

import pytest

from tercel.engine.condition import BinaryCheck, ConditionError, Macro, Not, Or, parse

ACCEPT = [
    "  a", "(a)", "a and b", "a and b and c", "a and b and(c)", "(a)and(b)and(c)", "(a and b)", "a or b",
    "a or b or c", "a or b or(c)", "(a)or(b)or(c)", "(a or b)", "(a.a exists and b)", "(a.a exists) and (b)",
    "a.a exists and b", "a.a=1 or b.b=2 and c", "not (a)", "not(a)", "not (not (a))", "not (a.b=1)",
    "not (a.a exists)", "not a", "a.b = 1 and not a", "not not a", "(not not a)", "not not(a)", "not(not(a))",
    "not(a)and(not(b))", "not a.b=1", "not a.a exists", "a.b = bla", "a.b = 'bla'", "a.b = not",
    "a.b contains bla", "a.b icontains 'bla'", "a.g in (1, 'a', b)", "fd.name=*.log", "a.g in (1, 'a', b.c)",
    "a.b = a.a", "a and notb", "a or notb", "notz and a and b", "macro and not_macro", "macro and not not_macro",
    "macro and not(not_macro)", "((macro) and (not_macro))", "macro and and_macro", "((macro) and (and_macro))",
    "macro and or_macro", "((macro) and (or_macro))", "evt.arg[0] contains /bin", "evt.arg[a] contains /bin",
    "test.str = testval", "test.str = 0a!@#456:/\\.;!$%^&*[]{}|", 'test.str = ""', "test.str = ''",
    'test.str = "0a!@#456:/.; !$%^&*[]{}|"', 'test.str = "test value"', "test.str = 'test value'",
    "test.str[0a!@#456:/\\.;!$%^&*(){}|] = testval", "test.str[aaaa1] = a", "test.str[1234] = a",
    "test.str[+0.25e+10] = a", 'test.str[""] = empty', "test.str['a aa'] = a",
    'test.str["test \\"with\\"escaping"] = a', 'test.str = "escape double quote \\" "',
    "test.str = 'escape single quote \\' '", "test.str = 'multiple escape single quote \\' \\\\'",
    "test.str = 'mixed \"'", 'test.str = "mixed \'"',
    "test.num > 1000", "test.num < +1", "test.num >= -1", "test.num <= 0x12345", "test.num <= 0XaB00AB",
    "test.num > 1.2", "test.num < -1.2", "test.num > -0.1222e+10", "test.str = !0.1222e+10",
    "test.str = 0xAAA.1", "test.str = 0aaaaa", "test.list in ()", "test.list in (a)",
    "test.list in ('single-quoted')", 'test.list in ("double-quoted")', "test.list in (0a!@#456:/\\.;!$%^&*[]{}|)",
    "test.list in (value, \"value\", 'value')", "test.list intersects (value)", "test.list pmatch (value)",
    "test.op exists and macro", "test.op =value", "test.op ==value", "test.op !=value", "test.op iglob value",
    "test.op bcontains 48545450", "test.op bstartswith 12ab001fc5", "test.op >1", "test.op <=1", "test.op in()",
    "test.op intersects()", "test.op pmatch()", "test.op existsand macro",
    "tolower(test.field) exists", "b64(test.field) glob value", "not (b64(test.field) exists or b64(test.field) contains 'a')",
    "b64(toupper(test.field)) exists", "b64( test.field) exists", "b64(test.field ) exists", "b64(b64(test.field) ) exists",
    "some.field = test.field", "some.field = val(test.field)", "some.field pmatch b64(test.field)",
    "some.field intersects val(test.field)", "some.field <= b64(test.field)", "some.field = b64(b64( test.field))",
    "tolower(some.field) = b64(test.field) or tolower(other.field) = tolower(anoter.field)",
    "some.field = b64 and(some_macro)", "some.field = b64 or(some_macro)",
    "some.field = 'some_fake_transformer(some_macro)'",
    'join("-", (fd.name, fd.directory)) = /tmp/test', "join('-->', (fd.name, fd.directory)) = /tmp/test",
    'join("-", (fd.name)) = /tmp/test', 'join("-", (toupper(fd.name), b64(fd.directory))) = /tmp/test',
    "join(\"-\", ('aaa', 'bbb')) = aaa-bbb", 'join("-", ("prefix", fd.name, "suffix")) = prefix-/tmp-suffix',
    'join("-", (proc.pid, 123)) contains 123', 'join("-", (fd.name, fd.directory)) glob value*',
    'join("-", (fd.name, fd.directory)) in (a, b, c)', 'not join("-", (fd.name, fd.directory)) = /tmp',
    'evt.type = tolower(join("-", (fd.name, fd.directory)))', 'len(toupper(join("-", (fd.name, fd.directory)))) = 10',
    'join("-", ( fd.name , fd.directory )) = /tmp', 'join( "-", (fd.name, fd.directory)) = /tmp',
    'join("-" , (fd.name, fd.directory)) = /tmp', 'join("-", ()) = /tmp',
]

REJECT = [
    "a andb", "aand b", "a and b and", "a and b or", "a and b not", "and a", "or a", "a or b and", "a or b or",
    "a or b not", "a not b and", "a not b or", "a not b not", "a orb", "aor b", "a and or b", "a andor b",
    "a not b", "a notb", "anot b", "a andnot b", "a andnotb", "(a)andnot(b)", "a ornot b", "a ornotb",
    "(a)ornot(b)", "evt.arg[] contains /bin", "a.b = b = 1", "(a.b = 1", "a.a invalidoperator xxx", "macro > 12",
    "a.g in ( 1 ,, , b)", "#a and b; a and b", "#a and b; # ; ; a and b", "fd.name=/var/lo);g/httpd.log",
    "test.str = a,", "test.str = a=", "test.str = a('\")", "test.str = '", 'test.str = "', "test.str = '\"",
    "test.str = \"'", "test.str = missing start quote", "test.str = 'missing end quote",
    'test.str = "broken escape double quote""', "test.str = 'broken escape single quote''",
    "test.str = \"mixed \\'\"", "test.str = 'mixed \\\"'", "test.str[0a!@#456:/\\.;!$%^&*[]{}] = testval",
    "test.str[] = testval", "test.str[[] = testval", "test.str[]] = testval", "test.str['''] = a",
    'test.str[aaa"] = a', "test.str[   test   ] = testval", "test.str[ = testval", "test.str] = testval",
    "test.num > !0.1222e+10", "test.num < 0xAAA.1", "test.num >= 0aaaaa", "test.num <= a",
    "test.list in (", "test.list in )", "test.list in (value,)", "test.list in (value,,)", "test.list in (,)",
    "test.list in (,   ,)", "test.list > (value)", "test.list = (value)", "test.list startswith (value)",
    "test.op ExIsTs", "test.op exists something", "test.op ===", "test.op === value", "test.op !==",
    "test.op startswithvalue", "test.op containsvalue", "test.op globvalue", "test.op iglobvalue", "test.op >",
    "test.op <=", "test.op in", "test.op intersects", "test.op pmatch",
    "val(test.field) exists", "val(val(test.field)) exists", "b64(val(test.field)) exists",
    "b64(test.field [1]) exists", "some_fake_transformer(test.field) exists", "b64 (test.field) exists",
    "b64,(test.field) exists", "b64(testfield)) exists", "b64(b64)) exists", "b64\n(test.field) exists",
    "b64(test.field exists", "test.field) exists", "b64(b64(test.field) exists", "(test.field) exists",
    "a(test.field) exists", "some.field = b64and(some_macro)", "some.field = b64or(some_macro)",
    "some.field = val(test.field [1])", "some.field = some_fake_transformer(test.field)",
    "some.field = val(val(test.field))", "some.field = val(toupper(test.field))", "some.field = b64(val(test.field))",
    "some.field = b64 (test.field)", "some.field = (b64(test.field))", "some.field = b64(test.field))",
    "some.field = ((b64(test.field)))", "some.field = b64\n(test.field)", "some.field = (test.field)",
    "some.field in (b64(test.field))", "some.field in (a, b64(test.field))",
    'join("-", (fd.name, fd.directory) = /tmp', 'join("-", fd.name, fd.directory)) = /tmp', 'join("-", (,)) = /tmp',
    'join("-", (,fd.name)) = /tmp', 'join("-", (fd.name,)) = /tmp', 'join("-", (fd.name,,fd.directory)) = /tmp',
    'join("-", ((fd.name))) = /tmp', 'join("-", (macro)) = /tmp', 'join("-", (barestring)) = /tmp',
]


def _variants(text: str) -> list[str]:
    padded = f" {text} "
    return [text, padded, padded.replace(" ", "\n"), padded.replace(" ", "\t")]


@pytest.mark.parametrize("text", ACCEPT)
def test_accepts(text):
    # as libsinsp's test_accept: also padded, and with every space a line break, then a tab
    for variant in _variants(text):
        parse(variant)


@pytest.mark.parametrize("text", REJECT)
def test_rejects(text):
    with pytest.raises(ConditionError):
        parse(text)


def test_legacy_backslash_space_escape():
    assert parse('test.str = "bad escape \\ "').right.value == "bad escape \\"


def test_multi_negation():
    assert parse("not not not not not(not not(not not_macro))") == Not(Not(Macro("not_macro")))


def test_positions_match_libsinsp():
    n = parse("proc.aname[3]=nginx")
    assert (n.pos, n.left.pos, n.right.pos) == (0, 0, 14)
    n = parse("proc.name in ( nginx, apache)")
    assert n.right.pos == 13
    n = parse("not proc.name=nginx")
    assert (n.pos, n.child.pos, n.child.right.pos) == (0, 4, 14)
    n = parse("(proc.name=nginx or proc.name=apache)")
    assert isinstance(n, Or) and n.pos == 1 and [c.pos for c in n.children] == [1, 20]
    assert isinstance(n.children[1], BinaryCheck) and n.children[1].right.pos == 30
