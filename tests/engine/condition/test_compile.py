"""Compiled conditions: operator semantics on every value type, missing values, lists,
ancestors, transformers, modifiers, field-to-field comparisons, and both evaluation paths."""

from __future__ import annotations

import ipaddress

import pytest

from tercel.engine.condition import ConditionError, compile, parse
from tercel.engine.condition.compiler import _closures

from .fakefields import Evt, fake_fields


@pytest.fixture(autouse=True)
def _fields():
    with fake_fields():
        yield


def run(cond: str, **values) -> bool:
    evt = Evt({k.replace("__", "."): v for k, v in values.items()})
    node = parse(cond)
    fast = compile(node)(evt)
    slow = _closures(node)(evt)
    assert fast == slow, cond
    assert isinstance(fast, bool)
    return fast


TABLE = [
    # strings
    ("tst.s = bash", {"tst.s": "bash"}, True),
    ("tst.s == bash", {"tst.s": "bashx"}, False),
    ("tst.s != bash", {"tst.s": "zsh"}, True),
    ("tst.s != bash", {"tst.s": "bash"}, False),
    ("tst.s contains as", {"tst.s": "bash"}, True),
    ("tst.s icontains AS", {"tst.s": "bAsh"}, True),
    ("tst.s icontains 'É'", {"tst.s": "é"}, False),  # C locale: only A-Z fold
    ("tst.s startswith ba", {"tst.s": "bash"}, True),
    ("tst.s endswith sh", {"tst.s": "bash"}, True),
    ("tst.s endswith ''", {"tst.s": "bash"}, True),
    ("tst.s glob 'b*h'", {"tst.s": "bash"}, True),
    ("tst.s glob '/home/*/.ssh/*'", {"tst.s": "/home/u/x/.ssh/id"}, True),  # * crosses '/'
    ("tst.s glob 'b?sh'", {"tst.s": "bash"}, True),
    ("tst.s glob 'b[!x]sh'", {"tst.s": "bash"}, True),
    ("tst.s glob 'b[^a]sh'", {"tst.s": "bash"}, False),
    ("tst.s glob 'b\\\\*'", {"tst.s": "b*"}, True),
    ("tst.s glob 'B*'", {"tst.s": "bash"}, False),
    ("tst.s iglob 'B*'", {"tst.s": "bash"}, True),
    ("tst.s regex 'ba.h'", {"tst.s": "bash"}, True),
    ("tst.s regex 'as'", {"tst.s": "bash"}, False),  # anchored at both ends
    ("tst.s in (sh, bash)", {"tst.s": "bash"}, True),
    ("tst.s in ()", {"tst.s": "bash"}, False),
    ("tst.s intersects (sh, bash)", {"tst.s": "bash"}, True),
    ("tst.s in ('a b', c)", {"tst.s": "a b"}, True),
    ("tst.s > 5", {"tst.s": "6"}, True),
    ("tst.s < 5", {"tst.s": "10"}, True),  # numbers against strings compare as strings
    ("tst.s exists", {"tst.s": ""}, True),
    ("tst.s exists", {}, False),
    ("tst.path pmatch (/etc, /usr/lib)", {"tst.path": "/etc/passwd"}, True),
    ("tst.path pmatch (/etc, /usr/lib)", {"tst.path": "/etc"}, True),
    ("tst.path pmatch (/etc, /usr/lib)", {"tst.path": "/etcx/passwd"}, False),
    ("tst.path pmatch (/etc/)", {"tst.path": "/usr/lib/x"}, False),
    ("tst.path pmatch (/)", {"tst.path": "/anything"}, True),
    # missing values: every check false, `not` true
    ("tst.s = x", {}, False),
    ("tst.s != x", {}, False),
    ("not tst.s = x", {}, True),
    ("not tst.s != x", {}, True),
    ("tst.s in (x)", {}, False),
    ("tst.s contains x", {}, False),
    ("tst.i > 1", {}, False),
    # integers
    ("tst.i = 5", {"tst.i": 5}, True),
    ("tst.i = 0x10", {"tst.i": 16}, True),
    ("tst.i = -3", {"tst.i": -3}, True),
    ("tst.i != 5", {"tst.i": 6}, True),
    ("tst.i < 5", {"tst.i": 4}, True),
    ("tst.i <= 5", {"tst.i": 5}, True),
    ("tst.i > 5", {"tst.i": 5}, False),
    ("tst.i >= 5", {"tst.i": 5}, True),
    ("tst.i in (1, 2, 3)", {"tst.i": 2}, True),
    ("tst.u intersects (1, 2)", {"tst.u": 3}, False),
    ("tst.u = -1", {"tst.u": 2**64 - 1}, True),  # stored at the field's width, as libsinsp does
    ("tst.i = -1", {"tst.i": -1}, True),
    ("tst.rt > 1000000000", {"tst.rt": 2_000_000_000}, True),
    ("tst.d > 1.5", {"tst.d": 2.0}, True),
    # booleans
    ("tst.b = true", {"tst.b": True}, True),
    ("tst.b = false", {"tst.b": True}, False),
    ("tst.b != false", {"tst.b": True}, True),
    # addresses and networks
    ("tst.ip = 127.0.0.1", {"tst.ip": "127.0.0.1"}, True),
    ("tst.ip = '::1'", {"tst.ip": "::1"}, True),
    ("tst.ip = '0:0::1'", {"tst.ip": "::1"}, True),
    ("tst.ip != 127.0.0.1", {"tst.ip": "10.0.0.1"}, True),
    ("tst.ip in (10.0.0.1, 127.0.0.1)", {"tst.ip": "127.0.0.1"}, True),
    ("tst.net = 127.0.0.0/8", {"tst.net": "127.1.2.3"}, True),
    ("tst.net = 127.0.0.0/8", {"tst.net": "128.0.0.1"}, False),
    ("tst.net != 127.0.0.0/8", {"tst.net": "128.0.0.1"}, True),
    ("tst.net != 127.0.0.0/8", {"tst.net": "::1"}, True),
    ("tst.net = '::1/128'", {"tst.net": "::1"}, True),
    ("tst.net in (10.0.0.0/8, 192.168.0.0/16)", {"tst.net": "192.168.4.4"}, True),
    ("tst.net in (10.0.0.0/8, 192.168.0.0/16)", {"tst.net": "172.16.0.1"}, False),
    ("tst.net = 10.1.2.3/8", {"tst.net": "10.9.9.9"}, True),  # host bits are masked away
    # byte buffers
    ("tst.buf bcontains cafebabe", {"tst.buf": b"\x00\xca\xfe\xba\xbe\x01"}, True),
    ("tst.buf bcontains CAFEBABE", {"tst.buf": b"\xca\xfe"}, False),
    ("tst.buf bstartswith 7f454c46", {"tst.buf": b"\x7fELF..."}, True),
    ("tst.buf contains ELF", {"tst.buf": b"\x7fELF"}, True),
    ("tst.buf startswith x", {"tst.buf": b"xyz"}, True),
    ("tst.buf = abc", {"tst.buf": b"abc"}, True),
    # list fields
    ("tst.list in (a, b, c)", {"tst.list": ("a", "b")}, True),
    ("tst.list in (a, b)", {"tst.list": ("a", "z")}, False),
    ("tst.list in (a)", {"tst.list": ()}, True),
    ("tst.list intersects (a, b)", {"tst.list": ("z", "b")}, True),
    ("tst.list intersects (a, b)", {"tst.list": ()}, False),
    ("tst.list exists", {"tst.list": ("a",)}, True),
    ("len(tst.list) = 2", {"tst.list": ("a", "b")}, True),
    ("join(',', tst.list) = 'a,b'", {"tst.list": ("a", "b")}, True),
    # ancestors without an index: any of them
    ("tst.anc = bash", {"tst.anc": ("sshd", "bash", "init")}, True),
    ("tst.anc = zsh", {"tst.anc": ("sshd", "bash")}, False),
    ("tst.anc != bash", {"tst.anc": ("bash",)}, False),
    ("tst.anc != bash", {"tst.anc": ("bash", "init")}, True),
    ("tst.anc in (zsh, init)", {"tst.anc": ("bash", "init")}, True),
    ("tst.anc[2] = bash", {"tst.anc[2]": "bash"}, True),
    ("tst.anc[2] = bash", {"tst.anc[1]": "bash"}, False),
    ("tst.anc startswith ba", {"tst.anc": ("x", "bash")}, True),
    ("tst.env[HOME] = /root", {"tst.env[HOME]": "/root"}, True),
    # transformers
    ("tolower(tst.s) = bash", {"tst.s": "BaSh"}, True),
    ("toupper(tst.s) = BASH", {"tst.s": "bash"}, True),
    ("basename(tst.s) = ls", {"tst.s": "/bin/ls"}, True),
    ("basename(tst.s) = ''", {"tst.s": "/bin/"}, True),
    ("b64(tst.s) = hello", {"tst.s": "aGVsbG8="}, True),
    ("b64(tst.s) = hello", {"tst.s": "not base64!"}, False),
    ("not b64(tst.s) exists", {"tst.s": "not base64!"}, True),
    ("len(tst.s) = 4", {"tst.s": "bash"}, True),
    ("len(tst.s) = 2", {"tst.s": "é"}, True),  # bytes, as strlen
    ("len(tst.buf) > 2", {"tst.buf": b"abc"}, True),
    ("tolower(tst.anc) = bash", {"tst.anc": ("SSHD", "BASH")}, True),
    ("concat(tst.s, tst.s2) = ab", {"tst.s": "a", "tst.s2": "b"}, True),
    ("concat(tst.s, '-', tst.s2) = a-b", {"tst.s": "a", "tst.s2": "b"}, True),
    ("concat(tst.s, tst.s2) exists", {"tst.s": "a"}, False),
    ("toupper(join('->', (concat(tst.s, tst.s2), tst.s))) = 'AB->A'", {"tst.s": "a", "tst.s2": "b"}, True),
    ("getopt(tst.list, 'nt:')[t] = x", {"tst.list": ("-n", "-t", "x", "file")}, True),
    ("getopt(tst.list, 'nt:')[t] = x", {"tst.list": ("-ntx",)}, True),
    ("getopt(tst.list, 'nt:')[n] = n", {"tst.list": ("-n",)}, True),
    ("getopt(tst.list, 'nt:')[t] exists", {"tst.list": ("file", "-t", "x")}, False),
    ("getopt(tst.list, 'nt:') intersects (t)", {"tst.list": ("-t", "x")}, True),
    ("getopt(tst.list, 'nt:') in (n, '?')", {"tst.list": ("-n", "-q")}, True),
    ("getopt(tst.list, 'nt:')[t] = ''", {"tst.list": ("-t",)}, True),
    ('getopt(("-lpe", "/bin/sh"), "lpe:") intersects ("/bin/sh")', {}, True),
    ('getopt(("-n", "--", "-t"), "nt:") intersects ("t")', {}, False),
    ('getopt(("-abcvalue"), "abc:") intersects ("value")', {}, True),
    ('getopt(("-t", "val1", "-t", "val2"), "t:")[t] = val2', {}, True),  # the last one wins
    ('getopt(("arg1", "-n"), "n") intersects ("n")', {}, False),  # POSIX: stops at a non-option
    ('join(",", (tst.i, tst.i)) = "1,1"', {"tst.i": 1}, True),
    ('join(",", ()) = ""', {}, True),
    ('join(tst.s, (tst.s, "x")) = "a.a.x"', {"tst.s": "a."}, True),
    ('b64(concat("YWFh", "YmJi")) = aaabbb', {}, True),
    ('len(join("-", ("aaa", "bbb"))) = 7', {}, True),
    # field-to-field
    ("tst.s = val(tst.s2)", {"tst.s": "a", "tst.s2": "a"}, True),
    ("tst.s != val(tst.s2)", {"tst.s": "a", "tst.s2": "a"}, False),
    ("tst.s = val(tst.s2)", {"tst.s": "a"}, False),
    ("tst.s != val(tst.s2)", {"tst.s": "a"}, False),
    ("tst.s contains val(tst.s2)", {"tst.s": "bash", "tst.s2": "as"}, True),
    ("tst.s glob val(tst.s2)", {"tst.s": "bash", "tst.s2": "b*"}, True),
    ("tst.s in val(tst.s2)", {"tst.s": "bash", "tst.s2": "bash"}, True),
    ("tst.s = tolower(tst.s2)", {"tst.s": "bash", "tst.s2": "BASH"}, True),
    ("tst.i > val(tst.i)", {"tst.i": 3}, False),
    ("tst.anc = val(tst.s)", {"tst.anc": ("a", "b"), "tst.s": "b"}, True),
    ("tst.list in val(tst.list)", {"tst.list": ("a", "b")}, True),
    # modifiers
    ("tst.s startswith oneof (ba, zs)", {"tst.s": "bash"}, True),
    ("tst.s startswith oneof (b, ba)", {"tst.s": "bash"}, False),
    ("tst.s startswith anyof (b, ba)", {"tst.s": "bash"}, True),
    ("tst.s contains allof (b, sh)", {"tst.s": "bash"}, True),
    ("tst.s contains allof (b, zz)", {"tst.s": "bash"}, False),
    ("tst.s = anyof (a, bash)", {"tst.s": "bash"}, True),
    ("tst.s != allof (a, bash)", {"tst.s": "bash"}, False),
    ("tst.s != allof (a, b)", {"tst.s": "bash"}, True),
    ("tst.s = anyof ()", {"tst.s": "bash"}, False),
    ("tst.s regex anyof ('x.*', 'b.*')", {"tst.s": "bash"}, True),
    ("tst.s glob oneof ('b*', '*h', 'z*')", {"tst.s": "bash"}, False),
    ("tst.net = anyof (10.0.0.0/8, 127.0.0.0/8)", {"tst.net": "127.0.0.1"}, True),
    ("tst.ip != anyof (127.0.0.1, 10.0.0.1)", {"tst.ip": "127.0.0.1"}, True),
    ("tst.i = anyof (1, 2)", {"tst.i": 2}, True),
    ("tst.s startswith anyof (x)", {}, False),
    # boolean structure
    ("tst.s = a and tst.i = 1", {"tst.s": "a", "tst.i": 1}, True),
    ("tst.s = a and tst.i = 2", {"tst.s": "a", "tst.i": 1}, False),
    ("tst.s = b or tst.i = 1", {"tst.s": "a", "tst.i": 1}, True),
    ("not (tst.s = b or tst.i = 2)", {"tst.s": "a", "tst.i": 1}, True),
    ("tst.s = a and not tst.s = b and (tst.i in (1) or tst.i = 7)", {"tst.s": "a", "tst.i": 1}, True),
]


@pytest.mark.parametrize("cond, values, expected", TABLE)
def test_operator_semantics(cond, values, expected):
    evt = Evt(values)
    node = parse(cond)
    fast = compile(node)(evt)
    slow = _closures(node)(evt)
    assert fast is expected
    assert slow is expected


def test_short_circuit():
    calls = []
    evt = Evt({"tst.s": "a"})
    node = parse("tst.s = b and tst.s2 = x")
    from tercel.fields import registry

    registry.implement("tst.s2", lambda arg: lambda e: calls.append(1))
    assert compile(node)(evt) is False
    assert calls == []
    compile(parse("tst.s = a or tst.s2 = x"))(evt)
    assert calls == []


def test_compile_rejects_what_validate_rejects():
    with pytest.raises(ConditionError, match="not supported for numeric filters"):
        compile(parse("tst.i contains 1"))
    with pytest.raises(ConditionError, match="unexpected identifier 'm'"):
        compile(parse("tst.s = a and m"))
    with pytest.raises(ConditionError, match="unrecognized IP network"):
        compile(parse("tst.net = 1.2.3.4/40"))


def test_deep_trees_compile():
    cond = " and ".join(f"tst.i != {i}" for i in range(300))
    assert compile(parse(cond))(Evt({"tst.i": 1000})) is True
    nested = "(" * 120 + "tst.s = a" + ")" * 120
    assert compile(parse(nested))(Evt({"tst.s": "a"})) is True


def test_ipnet_parsing_is_cached():
    from tercel.engine.condition.values import parse_address

    assert parse_address("10.0.0.1") == ipaddress.ip_address("10.0.0.1")
    assert parse_address("nonsense") is None


@pytest.mark.parametrize("pattern, text, expected", [
    ("[[]x", "[x", True), ("a[&&b]", "a&", True), ("[]a]", "a", True), ("[!]a]", "b", True),
    ("[a-c]", "b", True), ("x[~~]", "x~", True), ("*.log", "a/b.log", True), ("[", "[", True), ("a\\", "a\\", True),
])
def test_glob_like_fnmatch(pattern, text, expected):
    import warnings

    from tercel.engine.condition.values import glob_regex

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (glob_regex(pattern, False).fullmatch(text) is not None) is expected
