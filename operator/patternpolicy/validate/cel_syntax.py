"""Parsing CEL with cel-python, and small readers for its lark parse trees.

cel-python's grammar is close to cel-go's, but lacks the optional syntax
(`a.?b`, `a[?k]`, `{?k: v}`) and quoted identifiers; those expressions are
reported as "cannot be checked" rather than as invalid.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from celpy.celparser import CELParseError, CELParser
from lark import Token, Tree

Syntax = Tree[Token]  # a parse tree: its leaves are tokens
Node = Tree[Token] | Token
UNKNOWN = object()  # a literal we do not decode
# Precedence levels wrap every operand in ~9 single-child nodes; the walk does not need them.
_PASS_THROUGH = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication",
                           "unary", "member", "primary", "paren_expr"})


class Unparsable(ValueError):
    """An expression the parser rejects; `checkable` is False for valid CEL it cannot read (`?.`)."""

    def __init__(self, message: str, checkable: bool) -> None:
        super().__init__(message)
        self.checkable = checkable


@functools.lru_cache(maxsize=4096)
def _parse_cached(expression: str) -> Syntax | Unparsable:
    try:
        return _compact(CELParser().parse(expression))
    except CELParseError as exc:
        return _unparsable(expression, exc)
    except RecursionError:
        return Unparsable("too deeply nested to check", checkable=False)


def parse(expression: str) -> Syntax:
    """The parse tree (cached: every pod rule repeats the same variable expressions)."""
    found = _parse_cached(expression)
    if isinstance(found, Unparsable):
        raise Unparsable(str(found), found.checkable)  # a fresh exception: a cached one would pile up tracebacks
    return found


def _compact(node: Syntax) -> Syntax:
    """The same tree without pass-through levels, names as plain strings (lark's Token compares slowly)."""
    while len(node.children) == 1 and node.data in _PASS_THROUGH and isinstance(node.children[0], Tree):
        node = node.children[0]
    return Tree(str(node.data), [_compact(c) if isinstance(c, Tree) else c for c in node.children])


def _unparsable(expression: str, exc: CELParseError) -> Unparsable:
    line, column = exc.line or 1, exc.column or 1
    text = expression.splitlines()[line - 1] if expression.splitlines() else expression
    near = text[max(0, column - 1):][:24]
    before = text[max(0, column - 2):column]  # the offending character and the one before it
    # cel-go accepts these; cel-python does not, so the rule may be fine but cannot be checked here.
    for syntax, name in ((".?", "optional field selection"), ("[?", "optional index"),
                         ("{?", "optional map entry"), ("`", "quoted identifier")):
        if syntax in before:
            return Unparsable(f"cannot be checked: the field checker's CEL parser (cel-python) does not support "
                              f"{name} syntax `{syntax}` (line {line}, column {column})", checkable=False)
    return Unparsable(f"does not parse as CEL at line {line}, column {column}, near `{near}`", checkable=True)


def call_args(kids: Iterable[Node]) -> list[Node]:
    """The expressions of an optional exprlist."""
    out: list[Node] = []
    for kid in kids:
        out += kid.children if isinstance(kid, Tree) and kid.data == "exprlist" else [kid]
    return out


def bare_ident(node: Node) -> str | None:
    """`c` when an argument is just an identifier (a comprehension variable), else None."""
    while isinstance(node, Tree) and len(node.children) == 1 and node.data != "ident":
        node = node.children[0]
    if isinstance(node, Tree) and node.data == "ident":
        return str(node.children[0])
    return None


def literal_value(token: Token) -> object:
    text = str(token)
    try:
        if token.type in ("STRING_LIT", "MLSTRING_LIT"):
            return _string(text)
        if token.type == "INT_LIT":
            return int(text, 0)
        if token.type == "UINT_LIT":
            return int(text.rstrip("uU"), 0)
        if token.type == "FLOAT_LIT":
            return float(text)
        if token.type == "BOOL_LIT":
            return text == "true"
        if token.type == "NULL_LIT":
            return None
    except ValueError:
        pass
    return UNKNOWN


def _string(text: str) -> str:
    raw = text[0] in "rR"
    text = text[1:] if raw else text
    quote = text[:3] if text[:3] in ('"""', "'''") else text[:1]
    body = text[len(quote):-len(quote)]
    if raw or "\\" not in body:
        return body
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return body
