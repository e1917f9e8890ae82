"""Macro/list expansion, type checking against the real field catalog, event-type analysis."""

from __future__ import annotations

import pytest

from tercel.engine.condition import (
    ConditionError,
    Macro,
    UnknownFieldError,
    ValueList,
    event_types,
    expand,
    list_refs,
    macro_refs,
    parse,
    to_text,
    validate,
)

from .ruleset_helper import load

# --- expansion ------------------------------------------------------------------------------


def test_macro_and_list_refs():
    node = parse("spawned and not (m2 or proc.name in (shells, bash)) and fd.name pmatch dirs")
    assert macro_refs(node) == {"spawned", "m2"}
    assert list_refs(node) == {"shells", "bash", "dirs"}
    assert list_refs(node, known={"shells", "dirs", "other"}) == {"shells", "dirs"}


def test_expand_substitutes_macros_and_lists():
    macros = {"spawned": parse("evt.type = execve")}
    lists = {"shells": ["bash", "sh"], "dirs": ['"/a b"', "'/c'", "/d"], "empty": []}
    node = expand(parse("spawned and proc.name in (zsh, shells, empty) and fd.name pmatch dirs"), macros, lists)
    assert to_text(node) == 'evt.type = execve and proc.name in (zsh, bash, sh) and fd.name pmatch ("/a b", /c, /d)'
    # macro nodes report the position of their use
    assert node.children[0].pos == 0


def test_expand_errors():
    with pytest.raises(ConditionError, match="undefined macro 'nope'") as e:
        expand(parse("proc.name = x or nope"), {}, {})
    assert e.value.offset == 17
    # an unknown name after `in` stays a single value, as in libsinsp
    node = expand(parse("proc.name in unknown_list"), {}, {})
    assert validate(node) == []


def test_expand_modifier_lists():
    node = expand(parse("proc.name startswith oneof (pfx)"), {}, {"pfx": ["a", "b"]})
    assert node.right == ValueList(("a", "b"))


# --- validation against the catalog ---------------------------------------------------------


@pytest.fixture
def fields_with_ka():
    from tercel.fields import registry
    from tercel.fields.registry import FieldDef

    added = registry.get("ka.user.name") is None
    if added:
        registry.declare(FieldDef(name="ka.user.name", ftype="CHARBUF", desc="test", field_class="tst"))
    yield
    if added:
        registry._fields.pop("ka.user.name", None)


@pytest.mark.parametrize("cond", [
    "proc.name = bash and proc.aname[2] = sshd and proc.aname = bash",
    "evt.arg.flags contains O_CREAT and evt.arg[0] = 3 and proc.env[HOME] = /root",
    "fd.net = 127.0.0.0/8 and fd.snet in (10.0.0.0/8, '192.168.0.0/16') and fd.ip = 127.0.0.1",
    "fd.ip = ::1 and fd.sport in (22, 0x50) and evt.num > 10 and user.uid != 0",
    "evt.buffer bcontains cafebabe and evt.buffer bstartswith 7f454c46 and evt.buffer contains ELF",
    "proc.name glob 'ba*' and proc.name iglob 'BA?' and proc.name regex '[a-z]+sh'",
    "tolower(proc.name) = bash and len(proc.name) > 3 and basename(proc.exepath) = x and b64(proc.name) = y",
    "proc.name = val(proc.pname) and proc.name in toupper(proc.pname)",
    "proc.name startswith oneof (ba, zs) and proc.name != allof (a, b) and fd.name contains anyof (x)",
    "fd.types[0] in (ipv4, ipv6) and fd.types intersects (file) and fd.types exists",
    "len(fd.types) = 2 and proc.name = join(',', fd.types)",
    "proc.is_exe_upper_layer = true and evt.failed = false",
    "proc.args intersects ('-V', '-l') and fd.name pmatch (/etc, /usr)",
])
def test_valid_conditions(cond):
    assert validate(parse(cond)) == []


@pytest.mark.parametrize("cond, message, offset", [
    ("proc.nme = bash", "filter_check called with nonexistent field proc.nme", 0),
    ("proc.name = bash and foo.bar exists", "filter_check called with nonexistent field foo.bar", 21),
    ("proc.name[1] = x", "filter proc.name does not support arguments", 0),
    ("proc.aname[x] = bash", "requires a numeric index argument", 0),
    ("proc.env = x", None, None),  # optional argument: fine
    ("evt.arg = x", "filter evt.arg requires an argument", 0),
    ("evt.num contains 3", "'contains' operator not supported for numeric filters", 0),
    ("proc.name bcontains 00", "'bcontains' operator not supported for string filters", 0),
    ("fd.ip > 1.2.3.4", None, None),  # rejected by the parser's number lexer? no: number token "1.2"
    ("fd.ip startswith 1", "'startswith' operator not supported for ip address and network filters", 0),
    ("fd.types = file", "'=' operator not supported list filters", 0),
    ("evt.num = abc", "'abc' is not a valid number", 10),
    ("fd.net = 10.0.0.0/33", "unrecognized IP network '10.0.0.0/33'", 9),
    ("fd.snet in (10.0.0.0/8, bad)", "unrecognized IP network 'bad'", 11),
    ("fd.ip = 10.0.0.0/8", "unrecognized IP address '10.0.0.0/8'", 8),
    ("evt.buffer bcontains xyz", "bcontains and bstartswith operator support hex strings only", 21),
    ("evt.buffer bcontains abc", "bcontains and bstartswith operator support hex strings only", 21),
    ("proc.is_exe_upper_layer = yes", "unrecognized boolean value 'yes'", 26),
    ("proc.name regex '('", "invalid regex pattern", 16),
    ("proc.name regex 'a\\\\d+'", "'\\d' is not POSIX syntax", 16),
    ("proc.name regex 'a(?=b)'", "'(?=' is not POSIX syntax", 16),
    ("tolower(evt.num) = 1", "type 'UINT64' is not supported by 'tolower' transformer", 0),
    ("proc.name = val(evt.num)", "has incompatible type 'UINT64'", 0),
    ("proc.name pmatch val(proc.pname)", "operator 'pmatch' doesn't support right-hand side fields", 0),
    ("fd.net = val(fd.net)", "field type 'IPNET' doesn't support right-hand side fields", 0),
    ("tolower(evt.rawarg.res) = x", "does not support transformers", 8),
    ("evt.num = val(evt.around[1])", "field 'evt.around[1]' can't be used as a right-hand side field", 14),
    ("join(',', proc.name) = x", "join() second argument must be a list", 0),
    ("concat(proc.name) = x", "concat() requires at least 2 arguments", 0),
    ("tolower(proc.name)[x] = y", None, None),  # parse error, see below
    ("some_macro", "unexpected identifier 'some_macro'", 0),
])
def test_invalid_conditions(cond, message, offset):
    try:
        node = parse(cond)
    except ConditionError:
        assert message is None
        return
    if message is None:
        try:
            validate(node)
        except ConditionError:
            pass
        return
    with pytest.raises(ConditionError) as e:
        validate(node)
    assert message in e.value.message
    assert e.value.offset == offset


def test_unknown_field_error_names_the_field():
    with pytest.raises(UnknownFieldError) as e:
        validate(parse("proc.name = a and proc.nonesuch[3] = b"))
    assert e.value.field == "proc.nonesuch[3]"
    assert e.value.offset == 18


def test_warnings():
    assert validate(parse("evt.dir = <")) == ["field 'evt.dir' is deprecated"]
    assert validate(parse("proc.name = proc.pname")) == [
        "'proc.pname' may be a valid field misused as a const string value"]
    assert validate(parse("proc.name = 'tolower(proc.pname)'")) == [
        "'tolower(proc.pname)' may be a valid field transformer misused as a const string value"]
    assert "may be optimized" in validate(parse("proc.name regex 'bash.*'"))[0]
    assert validate(parse("proc.name regex 'ba[sz]h'")) == []


def test_official_rules_validate(rules_dir):
    for path in sorted(rules_dir.glob("*.yaml")):
        macros, _lists, rules, _items = load(path)
        for name, node in rules.items():
            assert validate(node) == [], (path.name, name)
        for node in macros.values():
            validate(node)


# --- event types ------------------------------------------------------------------------------


@pytest.mark.parametrize("cond, expected", [
    ("evt.type = open", {"open"}),
    ("evt.type in (open, openat) and proc.name = x", {"open", "openat"}),
    ("evt.type = open or evt.type = close", {"open", "close"}),
    ("evt.type in (open, openat) and evt.type != open", {"openat"}),
    ("evt.type = open and evt.type = close", set()),
    ("proc.name = x", None),
    ("evt.type != open", None),
    ("not evt.type = open", None),
    ("not evt.type != open", {"open"}),
    ("not (evt.type != open or evt.type != close)", set()),
    ("not (evt.type = open or proc.name = x)", None),
    ("evt.type = open and not proc.name = x", {"open"}),
    ("evt.type = open or proc.name = x", None),
    ("evt.type exists and evt.type = open", {"open"}),
    ("not evt.type exists", set()),
    ("evt.type startswith open", None),
    ("(evt.type = a or evt.type = b) and not (evt.type = b)", {"a"}),
])
def test_event_types(cond, expected):
    got = event_types(parse(cond))
    assert (None if got is None else set(got)) == expected


def test_event_types_with_known_universe():
    known = {"open", "openat", "close"}
    assert event_types(parse("evt.type != open"), known) == {"openat", "close"}
    assert event_types(parse("evt.type in (open, bogus)"), known) == {"open"}


def test_event_types_refuses_transformed_evttype():
    with pytest.raises(ConditionError, match="does not support `evt.type` checks with transformers"):
        event_types(parse("tolower(evt.type) = open"))
    with pytest.raises(ConditionError, match="right-hand field comparisons"):
        event_types(parse("evt.type = val(proc.name)"))


def test_official_rule_event_types(rules_dir):
    union: set[str] = set()
    for path in sorted(rules_dir.glob("*.yaml")):
        _m, _l, rules, _items = load(path)
        types = {name: event_types(node) for name, node in rules.items()}
        assert all(t is not None for t in types.values()), path.name
        file_union = set().union(*types.values())
        union |= file_union
        if path.name == "falco_rules.yaml":
            assert sorted(file_union) == sorted(
                "connect dup dup2 dup3 execve execveat finit_module init_module link linkat open openat openat2 "
                "ptrace sendmsg sendto socket symlink symlinkat".split())
            assert types["Disallowed SSH Connection Non Standard Port"] == {"connect", "sendmsg", "sendto"}
            assert types["Redirect STDOUT/STDIN to Network Connection in Container"] == {"dup", "dup2", "dup3"}
            assert types["Terminal shell in container"] == {"execve", "execveat"}
    assert len(union) == 41


def test_macro_node_in_event_types_is_neutral():
    assert event_types(Macro("x")) is None


def test_warnings_carry_offsets_and_na_checks(fields_with_ka):
    (w,) = validate(parse("proc.name = a and ka.user.name = <NA>"))
    assert "<NA>" in w and "ka.user.name" in w
    assert w.offset == 33
    assert validate(parse("proc.pname = <NA>")) == []  # syscall fields: Falco does not warn
    (d,) = validate(parse("proc.name = a and evt.dir = <"))
    assert d.offset == 18
