"""Parser: the official rule files, round trips (hypothesis), garbage, error messages/offsets."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tercel.engine.condition import (
    And,
    ArgList,
    BinaryCheck,
    ConditionError,
    FieldRef,
    ListRef,
    Literal,
    Macro,
    Not,
    Or,
    Transform,
    UnaryCheck,
    Value,
    ValueList,
    parse,
    to_text,
)
from tercel.engine.condition.ast import LIST_OPS, MODIFIERS, NUM_OPS, STR_OPS


def _conditions(rules_dir):
    for path in sorted(rules_dir.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text()) or []:
            if isinstance(item, dict) and "condition" in item:
                yield path.name, item.get("rule") or item.get("macro"), item["condition"]


def test_every_official_condition_parses_and_round_trips(rules_dir):
    count = 0
    for fname, name, cond in _conditions(rules_dir):
        node = parse(cond)
        assert parse(to_text(node)) == node, (fname, name)
        count += 1
    assert count == 445  # 93 rules + 352 macros in the three files


# --- the grammar, piece by piece ------------------------------------------------------------

def test_precedence_and_flattening():
    a, b, c = Macro("a"), Macro("b"), Macro("c")
    assert parse("a or b and c") == Or((a, And((b, c))))
    assert parse("not a and b") == And((Not(a), b))
    assert parse("a and b and c") == And((a, b, c))
    assert parse("(a and b) and c") == And((And((a, b)), c))
    assert parse("not not a") == a
    assert parse("not(a)") == Not(a)
    assert parse("a and(b)") == And((a, b))
    assert parse("a or(b)") == Or((a, b))
    assert parse("\n  a\tand\r\nb ") == And((a, b))


def test_checks():
    f = FieldRef("proc.name")
    assert parse("proc.name=bash") == BinaryCheck(f, "=", Value("bash"))
    assert parse("proc.name == 'ba sh'") == BinaryCheck(f, "==", Value("ba sh"))
    assert parse("proc.name exists") == UnaryCheck(f, "exists")
    assert parse("proc.aname[2] = x") == BinaryCheck(FieldRef("proc.aname", "2"), "=", Value("x"))
    assert parse('proc.env["A B"] = x') == BinaryCheck(FieldRef("proc.env", "A B"), "=", Value("x"))
    assert parse("container.mount.dest[/proc*] = x").left == FieldRef("container.mount.dest", "/proc*")
    assert parse("evt.num >= -5").right == Value("-5")
    assert parse("evt.num < 0x1F").right == Value("0x1F")
    assert parse("evt.num<1.5e+3").right == Value("1.5e+3")
    assert parse("fd.name in (a, 'b c',\"d\")").right == ValueList(("a", "b c", "d"))
    assert parse("fd.name in ()").right == ValueList(())
    assert parse("fd.name in(a)").right == ValueList(("a",))
    assert parse("fd.name pmatch (x)").op == "pmatch"
    assert parse("fd.name intersects lst") == BinaryCheck(FieldRef("fd.name"), "intersects", ListRef("lst"))
    assert parse("proc.pname in (runc:[0:PARENT], runc)").right == ValueList(("runc:[0:PARENT]", "runc"))
    assert parse("proc.name startswith anyof (a, b)").mod == "anyof"
    assert parse("proc.name regex '^a.*'").op == "regex"
    assert parse("proc.name = oneof").right == Value("oneof")  # no blank after: a plain value


def test_transformers():
    assert parse("tolower(proc.name) = bash").left == Transform("tolower", (FieldRef("proc.name"),))
    assert parse("len( toupper(proc.name) ) > 3").left == Transform(
        "len", (Transform("toupper", (FieldRef("proc.name"),)),))
    assert parse("proc.name = val(proc.pname)").right == Transform("val", (FieldRef("proc.pname"),))
    assert parse("proc.name in tolower(proc.pname)").right == Transform("tolower", (FieldRef("proc.pname"),))
    node = parse('toupper(join("->", (concat(proc.name, evt.arg.path), proc.name))) = X')
    inner = node.left.args[0]
    assert inner == Transform("join", (
        Literal("->"),
        ArgList((Transform("concat", (FieldRef("proc.name"), FieldRef("evt.arg.path"))), FieldRef("proc.name"))),
    ))
    assert parse('getopt(proc.args, "nt:")[t] = x').left == Transform(
        "getopt", (FieldRef("proc.args"), Literal("nt:")), "t")


def test_string_escapes():
    assert parse(r'a.b = "x\"y\\z\n"').right == Value('x"y\\z\n')
    assert parse(r"a.b = 'it\'s'").right == Value("it's")
    assert parse(r'a.b = "a\ b"').right == Value("a\\b")  # libsinsp's legacy "\ " escape
    assert parse(r'a.b = "\/"').right == Value("/")


@pytest.mark.parametrize("text, message, offset", [
    ("", "filter input string is empty", 0),
    ("a and", "expected blank or '(' after 'and'", 5),
    ("a orb", "expected blank or '(' after 'or'", 4),
    ("(a", "expected a ')' token", 2),
    ("proc.name", "expected a valid check operator: one of 'exists'", 9),
    ("proc.name contains\"x\"", "expected a valid check operator", 10),
    ("proc.name = ", "expected a string value or a field with a valid transformer", 12),
    ("evt.num > abc", "expected a number value or a field with a valid transformer", 10),
    ("evt.num > 5abc", "unexpected token after '5', expecting 'or', 'and'", 11),
    ("fd.name in (a,)", "expected a string value", 14),
    ("fd.name in (a b)", "expected a ')' token", 14),
    ("fd.name in 'x'", "expected a list, an identifier, or a field with a valid transformer", 11),
    ("proc.aname[2 = x", "expected a ']' token", 12),
    ("proc.aname[] = x", "expected a valid field argument", 11),
    ("proc.name = val(x)", "expected a field within 'val' transformer", 16),
    ("tolower(proc.name = x", "expected a ')' token closing the transformer", 18),
    ("tolower(x) = y", "expected a field or a nested valid transformer", 8),
    ("a.b = 'x", "expected a string value or a field with a valid transformer", 6),
    ('a.b = "\\q"', "unsupported string escape sequence: \\q", 6),
    ("a.b = \"\\'\"", "invalid \\' escape in \"-quoted string", 6),
    ("a b", "unexpected token after 'a', expecting 'or', 'and'", 2),
    ("1", "expected a '(' token, a field check, or an identifier", 0),
    ("proc.name = oneof 'x'", "expected a list or an identifier", 18),
    ("a\0 and b", "unexpected token after 'a', expecting 'or', 'and'", 1),
])
def test_error_messages_and_offsets(text, message, offset):
    with pytest.raises(ConditionError) as err:
        parse(text)
    assert message in err.value.message
    assert err.value.offset == offset


def test_depth_limit():
    deep = "(" * 400 + "a" + ")" * 400
    with pytest.raises(ConditionError, match="exceeded max depth limit of 1000"):
        parse(deep)
    assert parse("(" * 150 + "a" + ")" * 150) == Macro("a")


# --- property tests ---------------------------------------------------------------------------

_ident = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,6}", fullmatch=True).filter(lambda s: s != "not")
_field_name = st.from_regex(r"[a-z][a-z0-9_]{0,4}(\.[a-z][a-z0-9_]{0,4}){1,3}", fullmatch=True)
_text = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=8)
_word = st.text(string.ascii_letters + string.digits + "/._-*:[]", min_size=1, max_size=8)
_strval = st.one_of(_word, _text)
_number = st.from_regex(r"[+\-]?[0-9]{1,4}(\.[0-9]{0,3})?([eE][+\-][0-9]{1,2})?|0[xX][0-9a-fA-F]{1,4}", fullmatch=True)
_field = st.builds(FieldRef, _field_name, st.one_of(st.none(), _strval))


def _operands(depth: int):
    if depth <= 0:
        return _field
    sub = _operands(depth - 1)
    multi_arg = st.one_of(sub, st.builds(Literal, _strval),
                          st.builds(ArgList, st.lists(sub, max_size=3).map(tuple)))
    return st.one_of(
        _field,
        st.builds(Transform, st.sampled_from(["tolower", "toupper", "b64", "basename", "len"]),
                  sub.map(lambda o: (o,))),
        st.builds(Transform, st.sampled_from(["join", "concat", "getopt"]),
                  st.lists(multi_arg, min_size=1, max_size=3).map(tuple), st.one_of(st.none(), _word)),
    )


_operand = _operands(2)
_rhs_transform = st.one_of(st.builds(Transform, st.just("val"), _field.map(lambda f: (f,))),
                           _operand.filter(lambda o: isinstance(o, Transform)))
_check = st.one_of(
    st.builds(UnaryCheck, _operand, st.just("exists")),
    st.builds(BinaryCheck, _operand, st.sampled_from(NUM_OPS), st.one_of(st.builds(Value, _number), _rhs_transform)),
    st.builds(BinaryCheck, _operand, st.sampled_from(STR_OPS), st.one_of(st.builds(Value, _strval), _rhs_transform)),
    st.builds(BinaryCheck, _operand, st.sampled_from(STR_OPS),
              st.one_of(st.builds(ValueList, st.lists(_strval, max_size=3).map(tuple)), st.builds(ListRef, _ident)),
              st.sampled_from(MODIFIERS)),
    st.builds(BinaryCheck, _operand, st.sampled_from(LIST_OPS),
              st.one_of(st.builds(ValueList, st.lists(_strval, max_size=4).map(tuple)), st.builds(ListRef, _ident),
                        _rhs_transform)),
    st.builds(Macro, _ident),
)
_tree = st.recursive(
    _check,
    lambda sub: st.one_of(
        st.builds(And, st.lists(sub, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(sub, min_size=2, max_size=3).map(tuple)),
        st.builds(Not, sub),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tree)
def test_print_then_parse_gives_the_same_tree(tree):
    text = to_text(tree)
    assert parse(text) == tree, text


_tokens = st.sampled_from([
    " ", "(", ")", ",", "and", "or", "not", "not(", "proc.name", "evt.arg[0]", "=", "!=", "in", "pmatch",
    "contains ", "exists", "'x'", '"y\\"', "bash", "12", "0x1", "val(", "tolower(", "join(", "oneof ", "[",
    "]", "\\", "\n", "<=", "glob ", "regex ", "macro_a",
])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(_tokens, max_size=25).map("".join)))
def test_garbage_only_raises_condition_error(text):
    try:
        node = parse(text)
    except ConditionError as e:
        assert isinstance(e.message, str) and -1 <= e.offset <= len(text)
    else:
        assert parse(to_text(node)) == node


_check_tokens = st.sampled_from([
    " and ", " or ", "not ", "(", ")", "proc.name", "proc.aname", "proc.aname[2]", "evt.arg[0]", "evt.arg.flags",
    "fd.net", "fd.ip", "evt.num", "evt.buffer", "fd.types", "proc.nme", "evt.type", " = ", " != ", " in ",
    " contains ", " bcontains ", " pmatch ", " > ", " exists", "(a, b)", "(10.0.0.0/8)", "'x'", "12", "cafe",
    "tolower(", "len(", "val(", "join(',', ", "oneof ", "macro_a", ")",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_check_tokens, min_size=1, max_size=14).map("".join))
def test_garbage_through_every_stage_only_raises_condition_error(text):
    from tercel.engine.condition import compile, event_types, validate

    try:
        node = parse(text)
        validate(node)
        event_types(node)
        compile(node)
    except ConditionError as e:
        assert e.message
