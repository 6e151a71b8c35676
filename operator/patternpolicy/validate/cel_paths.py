"""Which fields of `object` a CEL expression reads, found by walking its parse tree.

The walk is a small abstract interpretation: each sub-expression evaluates to
the set of places in the object it may stand for (`object.spec.containers`),
so comprehension variables (`c` in `containers.all(c, ...)`), list
concatenation and user variables carry their origin along. It runs once per
target kind, with `object.kind` known, so `object.kind == 'Pod' ? object.spec :
object.spec.template.spec` reads only the branch that kind takes: that is how
the pod-spec variables of `analysis.podspec` land on each kind's pod spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lark import Token, Tree

from patternpolicy.schemas.resolve import ELEMENT
from patternpolicy.validate.cel_syntax import UNKNOWN, Node, Syntax, bare_ident, call_args, literal_value

Path = tuple[str, ...]  # root first: ("object", "spec", "containers", "[]", "image")
ROOTS = ("object", "oldObject")  # same schema; everything else (request, namespaceObject, params) is not checked
# Comprehension macros -> how many leading arguments are variables, by argument count.
# Two variables are (index or key, item): cel-go's two-variable all/exists and the transform* family.
MACROS: dict[str, Callable[[int], int]] = {
    "all": lambda n: 2 if n == 3 else 1,
    "exists": lambda n: 2 if n == 3 else 1,
    "exists_one": lambda n: 2 if n == 3 else 1,
    "existsOne": lambda n: 2 if n == 3 else 1,
    "map": lambda n: 1,
    "filter": lambda n: 1,
    "sortBy": lambda n: 1,
    "transformList": lambda n: 2,
    "transformMap": lambda n: 2,
    "transformMapEntry": lambda n: 2,
}
_SAME_LIST = frozenset({"filter", "sortBy"})  # the result holds the receiver's own items
_NEW_LIST = frozenset({"map", "transformList"})  # the result's items are what the body yields
_VARIABLES = ("\0variables",)  # marker path for the `variables` identifier itself


@dataclass(frozen=True)
class Value:
    paths: frozenset[Path] = frozenset()  # where in the object this value may come from
    elems: frozenset[Path] = frozenset()  # where its items come from, beyond `path[]` (list literals, map())
    const: object = UNKNOWN  # a value known without the object (literals, object.kind)

    def items(self) -> frozenset[Path]:
        return frozenset((*p, ELEMENT) for p in self.paths) | self.elems

    def union(self, other: Value) -> Value:
        return Value(self.paths | other.paths, self.elems | other.elems)


@dataclass
class Collector:
    """Reads of one rule for one kind: call `variable(name)` for each variable, then `visit` each validation."""

    kind: str
    variables: Mapping[str, Syntax | None] = field(default_factory=dict)  # None: defined, but did not parse
    reads: set[Path] = field(default_factory=set)
    variable_reads: set[Path] = field(default_factory=set)  # always count, even if first used in a dead branch
    problems: list[str] = field(default_factory=list)
    _values: dict[str, Value] = field(default_factory=dict)
    _active: list[str] = field(default_factory=list)

    def visit(self, tree: Syntax) -> Value:
        return self._eval(tree, {})

    def all_reads(self) -> set[Path]:
        return self.reads | self.variable_reads

    def variable(self, name: str) -> Value:
        if name in self._values:
            return self._values[name]
        if name not in self.variables:
            self._problem(f"variables.{name} is not defined in the rule")
            return Value()
        if name in self._active:
            self._problem(f"variables {' -> '.join([*self._active, name])} refer to each other")
            return Value()
        tree = self.variables[name]
        if tree is None:
            return Value()
        saved, self.reads = self.reads, set()
        self._active.append(name)
        try:
            value = self._eval(tree, {})
        finally:
            self._active.pop()
            self.variable_reads |= self.reads
            self.reads = saved
        self._values[name] = value
        return value

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def _isolated(self, tree: Node, scope: dict[str, Value]) -> tuple[Value, set[Path]]:
        saved, self.reads = self.reads, set()
        try:
            return self._eval(tree, scope), self.reads
        finally:
            self.reads = saved

    def _eval(self, node: Node, scope: dict[str, Value]) -> Value:
        if isinstance(node, Token):
            return Value()
        handler = _HANDLERS.get(node.data)
        if handler is not None:
            return handler(self, node.children, scope)
        for child in node.children:  # anything unforeseen: still visit it for reads
            self._eval(child, scope)
        return Value()

    # --- operators -------------------------------------------------------------------------
    def _expr(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        if len(kids) == 1:
            return self._eval(kids[0], scope)
        cond = self._eval(kids[0], scope)
        if cond.const is True or cond.const is False:
            return self._eval(kids[1] if cond.const else kids[2], scope)  # the other branch never runs
        return self._eval(kids[1], scope).union(self._eval(kids[2], scope))

    def _logical(self, kids: list[Node], scope: dict[str, Value], decisive: bool) -> Value:
        if len(kids) == 1:
            return self._eval(kids[0], scope)
        (left, left_reads), (right, right_reads) = self._isolated(kids[0], scope), self._isolated(kids[1], scope)
        # A side that is constant and decisive for this kind makes the other side irrelevant.
        if left.const is decisive:
            self.reads |= left_reads
            return Value(const=decisive)
        if right.const is decisive:
            self.reads |= right_reads
            return Value(const=decisive)
        self.reads |= left_reads | right_reads
        both_known = isinstance(left.const, bool) and isinstance(right.const, bool)
        return Value(const=not decisive) if both_known else Value()  # neither side decided it

    def _relation(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        if len(kids) == 1:
            return self._eval(kids[0], scope)
        op = kids[0]
        assert isinstance(op, Tree)
        left, right = self._eval(op.children[0], scope), self._eval(kids[1], scope)
        if left.const is UNKNOWN or right.const is UNKNOWN:
            return Value()
        if op.data == "relation_eq":
            return Value(const=left.const == right.const)
        if op.data == "relation_ne":
            return Value(const=left.const != right.const)
        if op.data == "relation_in" and isinstance(right.const, tuple):
            return Value(const=left.const in right.const)
        return Value()

    def _addition(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        if len(kids) == 1:
            return self._eval(kids[0], scope)
        op = kids[0]
        assert isinstance(op, Tree)
        left, right = self._eval(op.children[0], scope), self._eval(kids[1], scope)
        return left.union(right) if op.data == "addition_add" else Value()  # list + list keeps both origins

    def _unary(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        if len(kids) == 1:
            return self._eval(kids[0], scope)
        value = self._eval(kids[1], scope)
        is_not = isinstance(kids[0], Tree) and kids[0].data == "unary_not"
        return Value(const=not value.const) if is_not and isinstance(value.const, bool) else Value()

    def _arithmetic(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        return self._eval(kids[0], scope) if len(kids) == 1 else self._visit_all(kids, scope)

    def _visit_all(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        for child in kids:
            self._eval(child, scope)
        return Value()

    # --- members -------------------------------------------------------------------------
    def _select(self, receiver: Value, name: str) -> Value:
        if _VARIABLES in receiver.paths:
            return self.variable(name)
        paths = frozenset((*p, name) for p in receiver.paths)
        self.reads |= paths
        known_kind = any(p[1:] == ("kind",) and p[0] in ROOTS for p in paths)
        return Value(paths, const=self.kind if known_kind and len(paths) == 1 else UNKNOWN)

    def _member_dot(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        return self._select(self._eval(kids[0], scope), str(kids[1]))

    def _member_index(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        receiver, index = self._eval(kids[0], scope), self._eval(kids[1], scope)
        if isinstance(index.const, str):
            return self._select(receiver, index.const)  # m['key'] is m.key: checks m, and the key if m is an object
        items = receiver.items()
        self.reads |= items
        return Value(items)

    def _member_dot_arg(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        method = str(kids[1])
        args = call_args(kids[2:])
        receiver = self._eval(kids[0], scope)
        count = MACROS[method](len(args)) if method in MACROS else 0
        bound = [bare_ident(a) for a in args[:count]]
        if not count or len(args) <= count or None in bound:
            self._visit_all(args, scope)  # a method call (c.image.startsWith(...)): its result is not a field
            return Value()
        inner = dict(scope)
        for name in bound[:-1]:
            inner[str(name)] = Value()  # index or key
        inner[str(bound[-1])] = Value(receiver.items())
        results = [self._eval(a, inner) for a in args[count:]]
        if method in _SAME_LIST:
            return receiver
        return Value(elems=results[-1].paths) if method in _NEW_LIST else Value()

    def _ident(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        name = str(kids[0])
        if name in scope:
            return scope[name]
        if name in ROOTS:
            return Value(frozenset({(name,)}))
        return Value(frozenset({_VARIABLES})) if name == "variables" else Value()

    def _ident_arg(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        name, args = str(kids[0]), call_args(kids[1:])
        if name == "dyn" and len(args) == 1:
            return self._eval(args[0], scope)
        self._visit_all(args, scope)  # has(x.y) reads x.y through the member_dot inside it
        return Value()

    def _list(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        values = [self._eval(a, scope) for a in call_args(kids)]
        elems = frozenset(p for v in values for p in v.paths)
        consts = tuple(v.const for v in values)
        return Value(elems=elems, const=consts if UNKNOWN not in consts else UNKNOWN)

    def _literal(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        token = kids[0]
        return Value(const=literal_value(token)) if isinstance(token, Token) else Value()

    def _single(self, kids: list[Node], scope: dict[str, Value]) -> Value:
        return self._eval(kids[0], scope)


Handler = Callable[[Collector, list[Node], dict[str, Value]], Value]
_HANDLERS: dict[str, Handler] = {
    "expr": Collector._expr,
    "conditionalor": lambda c, k, s: c._logical(k, s, decisive=True),
    "conditionaland": lambda c, k, s: c._logical(k, s, decisive=False),
    "relation": Collector._relation,
    "addition": Collector._addition,
    "multiplication": Collector._arithmetic,
    "unary": Collector._unary,
    "member": Collector._single,
    "primary": Collector._single,
    "paren_expr": Collector._single,
    "member_dot": Collector._member_dot,
    "member_dot_arg": Collector._member_dot_arg,
    "member_index": Collector._member_index,
    "ident": Collector._ident,
    "ident_arg": Collector._ident_arg,
    "list_lit": Collector._list,
    "literal": Collector._literal,
}
