"""Recursive-descent parser for Falco's condition language, following libsinsp's
``filter/parser.cpp`` token by token (same lexemes, same precedence, same error messages),
plus the 0.44 additions: ``regex``, ``iglob``, the ``oneof/anyof/allof`` modifiers and the
multi-value transformers ``join``, ``concat`` and ``getopt``.

    Expr     ::= OrExpr ;  OrExpr ::= AndExpr ('or' AndExpr)* ;  AndExpr ::= NotExpr ('and' NotExpr)*
    NotExpr  ::= ('not ')* ( 'not(' Expr ')' | Check )
    Check    ::= Field Condition | Transformer Condition | Identifier | '(' Expr ')'
"""

from __future__ import annotations

import re
import sys

from tercel.engine.condition.ast import (
    And,
    ArgList,
    BinaryCheck,
    FieldRef,
    ListRef,
    Literal,
    Macro,
    Node,
    Not,
    Operand,
    Or,
    Rhs,
    Transform,
    UnaryCheck,
    Value,
    ValueList,
)
from tercel.engine.condition.errors import ConditionError

MAX_DEPTH = 1000  # Falco calls parser::set_max_depth(1000)

_SPACE = " \t\n\v\f\r"  # POSIX [:space:]
_RGX_NOT_BLANK = re.compile(f"not[{_SPACE}]+")
_RGX_IDENTIFIER = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*")
_RGX_FIELDNAME = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+")
_RGX_FIELDARG_BARESTR = re.compile(f"[^][\"'{_SPACE}]+")
_RGX_HEXNUM = re.compile(r"0[xX][0-9a-zA-Z]+")
_RGX_NUMBER = re.compile(r"[+\-]?[0-9]+\.?[0-9]*(?:[eE][+\-][0-9]+)?")
_RGX_BARESTR = re.compile(f"[^()\"'{_SPACE}=,]+")
_BLANKS = frozenset(" \t\b\r\n")

_UNARY_OPS = ("exists",)
_NUM_OPS = ("<=", "<", ">=", ">")
# word operators must be followed by a blank (space, tab, line break)
_STR_OPS = ("==", "=", "!=", "glob", "iglob", "contains", "icontains", "bcontains",
            "startswith", "bstartswith", "endswith", "regex")
_WORD_OPS = frozenset(_STR_OPS[3:])
_LIST_OPS = ("intersects", "in", "pmatch")
_MODIFIERS = ("oneof", "anyof", "allof")
_SINGLE_TRANSFORMERS = ("tolower(", "toupper(", "b64(", "basename(", "len(")
_MULTI_TRANSFORMERS = ("join(", "concat(", "getopt(")
_TRANSFORMERS = _SINGLE_TRANSFORMERS + _MULTI_TRANSFORMERS
_SUPPORTED_OPS = ", ".join(f"'{o}'" for o in _UNARY_OPS + _NUM_OPS + _STR_OPS + _LIST_OPS)
_SUPPORTED_TRANSFORMERS = ", ".join(f"'{t[:-1]}'" for t in ("val(",) + _TRANSFORMERS)
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", " ": "\\", "\\": "\\", "/": "/"}


def unescape(token: str, offset: int = -1) -> str:
    """libsinsp's ``unescape_str``: the token includes its quotes."""
    quote = token[0]
    out: list[str] = []
    escaped = False
    for ch in token[1:-1]:
        if not escaped:
            if ch == "\\":
                escaped = True
            else:
                out.append(ch)
            continue
        escaped = False
        rep = _ESCAPES.get(ch)
        if rep is not None:
            out.append(rep)
        elif ch in "\"'":
            if ch != quote:
                raise ConditionError(f"invalid \\{ch} escape in {quote}-quoted string", offset)
            out.append(ch)
        else:
            raise ConditionError(f"unsupported string escape sequence: \\{ch}", offset)
    return "".join(out)


class _Parser:
    __slots__ = ("text", "end", "pos", "last", "depth")

    def __init__(self, text: str) -> None:
        self.text = text
        nul = text.find("\0")  # C strings end there
        self.end = len(text) if nul < 0 else nul
        self.pos = 0
        self.last = ""
        self.depth = 0

    # -- errors and depth ------------------------------------------------------------------
    def error(self, message: str) -> ConditionError:
        return ConditionError(message, self.pos)

    def enter(self) -> None:
        self.depth += 1
        if self.depth >= MAX_DEPTH:
            raise self.error(f"exceeded max depth limit of {MAX_DEPTH}")

    # -- lexing ----------------------------------------------------------------------------
    def lex_blank(self) -> bool:
        start = pos = self.pos
        text, end = self.text, self.end
        while pos < end and text[pos] in _BLANKS:
            pos += 1
        self.pos = pos
        return pos != start

    def lex_str(self, token: str) -> bool:
        if self.text.startswith(token, self.pos, self.end):
            self.pos += len(token)
            self.last = token
            return True
        return False

    def lex_any(self, tokens: tuple[str, ...]) -> str | None:
        for tok in tokens:
            if self.lex_str(tok):
                return tok
        return None

    def lex_word(self, words: tuple[str, ...]) -> str | None:
        """A word token followed by a blank (the blank stays for lex_blank)."""
        text, pos, end = self.text, self.pos, self.end
        for w in words:
            after = pos + len(w)
            if text.startswith(w, pos, end) and after < end and text[after] in _BLANKS:
                self.pos = after
                self.last = w
                return w
        return None

    def lex_rgx(self, rgx: re.Pattern[str]) -> bool:
        m = rgx.match(self.text, self.pos, self.end)
        if m is None:
            return False
        self.last = m.group(0)
        self.pos = m.end()
        return True

    def lex_quoted(self) -> bool:
        text, pos, end = self.text, self.pos, self.end
        if pos >= end or text[pos] not in "'\"":
            return False
        delim = text[pos]
        escaped = False
        i = pos + 1
        while i < end:
            ch = text[i]
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == delim:
                self.pos = i + 1
                self.last = unescape(text[pos : i + 1], pos)
                return True
            i += 1
        return False  # unterminated: nothing consumed

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> Node:
        if not self.text:
            raise ConditionError("filter input string is empty", 0)
        res = self.parse_or()
        if self.pos != len(self.text):
            raise self.error(f"unexpected token after '{self.last}', expecting 'or', 'and'")
        return res

    def parse_or(self) -> Node:
        self.enter()
        self.lex_blank()
        pos = self.pos
        children = [self.parse_and()]
        self.lex_blank()
        while self.lex_str("or"):
            if not self.lex_blank():
                if self.lex_str("("):
                    child = self.parse_embedded_remainder()
                else:
                    raise self.error("expected blank or '(' after 'or'")
            else:
                child = self.parse_and()
            children.append(child)
            self.lex_blank()
        self.depth -= 1
        return Or(tuple(children), pos) if len(children) > 1 else children[0]

    def parse_and(self) -> Node:
        self.enter()
        self.lex_blank()
        pos = self.pos
        children = [self.parse_not()]
        self.lex_blank()
        while self.lex_str("and"):
            if not self.lex_blank():
                if self.lex_str("("):
                    child = self.parse_embedded_remainder()
                else:
                    raise self.error("expected blank or '(' after 'and'")
            else:
                child = self.parse_not()
            children.append(child)
            self.lex_blank()
        self.depth -= 1
        return And(tuple(children), pos) if len(children) > 1 else children[0]

    def parse_not(self) -> Node:
        self.enter()
        self.lex_blank()
        pos = self.pos
        is_not = False
        while self.lex_rgx(_RGX_NOT_BLANK):
            is_not = not is_not
        if self.lex_str("not("):
            is_not = not is_not
            child = self.parse_embedded_remainder()
        else:
            child = self.parse_check()
        self.depth -= 1
        return Not(child, pos) if is_not else child

    def parse_embedded_remainder(self) -> Node:
        self.enter()
        self.lex_blank()
        child = self.parse_or()
        self.lex_blank()
        if not self.lex_str(")"):
            raise self.error("expected a ')' token")
        self.depth -= 1
        return child

    def parse_check(self) -> Node:
        self.enter()
        self.lex_blank()
        pos = self.pos
        if self.lex_str("("):
            node = self.parse_embedded_remainder()
        elif self.lex_rgx(_RGX_FIELDNAME):
            node = self.parse_condition(self.parse_field_remainder(self.last, pos), pos)
        elif (tr := self.lex_any(_TRANSFORMERS)) is not None:
            node = self.parse_condition(self.parse_transformer_remainder(tr[:-1], pos), pos)
        elif self.lex_rgx(_RGX_IDENTIFIER):
            node = Macro(self.last, pos)
        else:
            raise self.error("expected a '(' token, a field check, or an identifier")
        self.depth -= 1
        return node

    def parse_field_remainder(self, name: str, pos: int) -> FieldRef:
        arg: str | None = None
        if self.lex_str("["):
            if not self.lex_quoted() and not self.lex_rgx(_RGX_FIELDARG_BARESTR):
                raise self.error("expected a valid field argument: a quoted string or a bare string")
            arg = self.last
            if not self.lex_str("]"):
                raise self.error("expected a ']' token")
        return FieldRef(name, arg, pos)

    def parse_transformer_remainder(self, name: str, pos: int) -> Transform:
        """After ``name(``: the argument(s) and the closing parenthesis."""
        self.enter()
        self.lex_blank()
        args: list[Operand] = []
        if name in ("join", "concat", "getopt"):
            args.append(self.parse_multi_arg())
            self.lex_blank()
            while self.lex_str(","):
                self.lex_blank()
                args.append(self.parse_multi_arg())
                self.lex_blank()
            if not self.lex_str(")"):
                raise self.error("expected a ')' token closing the transformer")
            arg = None
            if self.lex_str("["):
                if not self.lex_quoted() and not self.lex_rgx(_RGX_FIELDARG_BARESTR):
                    raise self.error("expected a valid transformer argument: a quoted string or a bare string")
                arg = self.last
                if not self.lex_str("]"):
                    raise self.error("expected a ']' token")
            self.depth -= 1
            return Transform(name, tuple(args), arg, pos)
        arg_pos = self.pos
        if (tr := self.lex_any(_TRANSFORMERS)) is not None:
            args.append(self.parse_transformer_remainder(tr[:-1], arg_pos))
        elif self.lex_rgx(_RGX_FIELDNAME):
            args.append(self.parse_field_remainder(self.last, arg_pos))
        else:
            raise self.error(f"expected a field or a nested valid transformer: {_SUPPORTED_TRANSFORMERS}")
        self.lex_blank()
        if not self.lex_str(")"):
            raise self.error("expected a ')' token closing the transformer")
        self.depth -= 1
        return Transform(name, tuple(args), None, pos)

    def parse_multi_arg(self, in_list: bool = False) -> Operand:
        """An argument of join/concat/getopt: a field, a transformer, a quoted string, a number,
        or (not inside a list) a parenthesised list of those. Bare strings are not arguments."""
        self.enter()
        pos = self.pos
        node: Operand
        if (tr := self.lex_any(_TRANSFORMERS)) is not None:
            node = self.parse_transformer_remainder(tr[:-1], pos)
        elif self.lex_rgx(_RGX_FIELDNAME):
            node = self.parse_field_remainder(self.last, pos)
        elif not in_list and self.lex_str("("):
            self.lex_blank()
            items: list[Operand] = []
            if not self.text.startswith(")", self.pos, self.end):
                items.append(self.parse_multi_arg(True))
                self.lex_blank()
                while self.lex_str(","):
                    self.lex_blank()
                    items.append(self.parse_multi_arg(True))
                    self.lex_blank()
            if not self.lex_str(")"):
                raise self.error("expected a ')' token")
            node = ArgList(tuple(items), pos)
        elif self.lex_quoted() or self.lex_rgx(_RGX_HEXNUM) or self.lex_rgx(_RGX_NUMBER):
            node = Literal(self.last, pos)
        else:
            raise self.error("expected a field, a transformer, a quoted string or a number"
                             + ("" if in_list else " or a list") + " as transformer argument")
        self.depth -= 1
        return node

    def parse_condition(self, left: Operand, pos: int) -> Node:
        self.enter()
        self.lex_blank()
        node: Node
        if self.lex_any(_UNARY_OPS) is not None:
            node = UnaryCheck(left, "exists", pos)
        elif (op := self.lex_any(_NUM_OPS)) is not None:
            node = BinaryCheck(left, op, self.parse_num_value_or_transformer(), None, pos)
        elif (op := self.lex_any(_STR_OPS[:3]) or self.lex_word(_STR_OPS[3:])) is not None:
            self.lex_blank()
            mod = self.lex_word(_MODIFIERS)
            if mod is not None:
                right = self.parse_list_value(allow_transformer=False)
                node = BinaryCheck(left, op, right, mod, pos)
            else:
                node = BinaryCheck(left, op, self.parse_str_value_or_transformer(False), None, pos)
        elif (op := self.lex_any(_LIST_OPS)) is not None:
            node = BinaryCheck(left, op, self.parse_list_value(allow_transformer=True), None, pos)
        else:
            raise self.error(f"expected a valid check operator: one of {_SUPPORTED_OPS}")
        self.depth -= 1
        return node

    def parse_num_value_or_transformer(self) -> Rhs:
        self.lex_blank()
        pos = self.pos
        tr = self.try_parse_transformer_or_val()
        if tr is not None:
            return tr
        if self.lex_rgx(_RGX_HEXNUM) or self.lex_rgx(_RGX_NUMBER):
            return Value(self.last, pos)
        raise self.error(f"expected a number value or a field with a valid transformer: {_SUPPORTED_TRANSFORMERS}")

    def parse_str_value_or_transformer(self, no_transformer: bool) -> Rhs:
        self.lex_blank()
        pos = self.pos
        if not no_transformer:
            tr = self.try_parse_transformer_or_val()
            if tr is not None:
                return tr
        if self.lex_quoted() or self.lex_rgx(_RGX_BARESTR):
            return Value(self.last, pos)
        if no_transformer:
            raise self.error("expected a string value")
        raise self.error(f"expected a string value or a field with a valid transformer: {_SUPPORTED_TRANSFORMERS}")

    def parse_list_value(self, allow_transformer: bool) -> Rhs:
        self.enter()
        self.lex_blank()
        pos = self.pos
        if self.lex_str("("):
            self.lex_blank()
            values: list[str] = []
            try:
                first = self.parse_str_value_or_transformer(True)
            except ConditionError:
                first = None  # an empty list, or the ')' check below reports the problem
            if isinstance(first, Value):
                values.append(first.value)
                self.lex_blank()
                while self.lex_str(","):
                    item = self.parse_str_value_or_transformer(True)
                    assert isinstance(item, Value)
                    values.append(item.value)
                    self.lex_blank()
            if not self.lex_str(")"):
                raise self.error("expected a ')' token")
            self.depth -= 1
            return ValueList(tuple(values), pos)
        if allow_transformer:
            tr = self.try_parse_transformer_or_val()
            if tr is not None:
                self.depth -= 1
                return tr
        if self.lex_rgx(_RGX_IDENTIFIER):
            self.depth -= 1
            return ListRef(self.last, pos)
        if allow_transformer:
            raise self.error(
                f"expected a list, an identifier, or a field with a valid transformer: {_SUPPORTED_TRANSFORMERS}")
        raise self.error("expected a list or an identifier")

    def try_parse_transformer_or_val(self) -> Transform | None:
        self.lex_blank()
        pos = self.pos
        if self.lex_str("val("):
            self.lex_blank()
            field_pos = self.pos
            if not self.lex_rgx(_RGX_FIELDNAME):
                raise self.error("expected a field within 'val' transformer")
            fld = self.parse_field_remainder(self.last, field_pos)
            self.lex_blank()
            if not self.lex_str(")"):
                raise self.error("expected a ')' token closing the transformer")
            return Transform("val", (fld,), None, pos)
        tr = self.lex_any(_TRANSFORMERS)
        if tr is not None:
            return self.parse_transformer_remainder(tr[:-1], pos)
        return None


def parse(text: str) -> Node:
    """Parse a condition; raises ConditionError (with the offset) on any syntax error."""
    if not isinstance(text, str):
        raise ConditionError(f"condition must be a string, not {type(text).__name__}", -1)
    # each grammar level is one Python frame: make room for Falco's depth limit
    if sys.getrecursionlimit() < MAX_DEPTH * 3:
        sys.setrecursionlimit(MAX_DEPTH * 3)
    return _Parser(text).parse()


def parse_operand(text: str, pos: int) -> tuple[Operand, int]:
    """Parse a field or a transformer starting at ``pos`` (for output formats); returns the
    operand and the offset just after it."""
    p = _Parser(text)
    p.pos = pos
    if (tr := p.lex_any(_TRANSFORMERS)) is not None:
        return p.parse_transformer_remainder(tr[:-1], pos), p.pos
    if p.lex_rgx(_RGX_FIELDNAME):
        return p.parse_field_remainder(p.last, pos), p.pos
    raise p.error("expected a field or a transformer")
