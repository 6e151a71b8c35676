"""Static field checks: every field a rule's CEL reads must exist on every kind the rule targets.

A misspelt field does not fail in CEL, it just never matches (`has()` is false,
the rule silently allows everything), so this runs before a rule is compiled.
A Pod rule is checked against the Pod and against each controller's pod
template, because the same expressions run on all of them.

Reads inside `has()` count like any other: on a kind without the field,
`!has(x) || x == false` quietly allows everything, which is the mistake this
check exists to catch. Rules tell kinds apart with `object.kind == '...'`
(or `in [...]`), which the walk evaluates per kind, so the other kinds'
branches are not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from patternpolicy.models.rules import KindRef, Rule
from patternpolicy.schemas.fields import declared_fields
from patternpolicy.schemas.model import KindSchema, SchemaSource
from patternpolicy.schemas.resolve import format_path, resolve
from patternpolicy.validate.cel_paths import Collector, Path
from patternpolicy.validate.cel_syntax import Syntax, Unparsable, parse

FieldCheck = Callable[[Rule], list[str]]

# A kind the cluster serves but whose schema is not published yet (a CRD just installed): retry later.
NO_SCHEMA = "no schema known"


@dataclass
class ParsedRule:
    variables: dict[str, Syntax | None] = field(default_factory=dict)  # None: did not parse (already reported)
    validations: list[Syntax] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_rule(rule: Rule) -> ParsedRule:
    parsed = ParsedRule()
    for variable in rule.variables:
        parsed.variables[variable.name] = _parse(f"variables.{variable.name}", variable.expression, parsed.problems)
    for index, validation in enumerate(rule.validations):
        tree = _parse(f"validations[{index}]", validation.expression, parsed.problems)
        if tree is not None:
            parsed.validations.append(tree)
    return parsed


def _parse(where: str, expression: str, problems: list[str]) -> Syntax | None:
    try:
        return parse(expression)
    except Unparsable as exc:
        problems.append(f"{where}: {exc}")
        return None


def collect_reads(parsed: ParsedRule, kind: str) -> Collector:
    """Every path from `object` the rule reads when it runs on `kind`, and variable problems."""
    collector = Collector(kind, parsed.variables)
    for name in parsed.variables:  # unused variables are checked too: a typo there is still a typo
        collector.variable(name)
    for tree in parsed.validations:
        collector.visit(tree)
    return collector


def leaves(paths: Iterable[Path]) -> list[Path]:
    """Drops paths that another path extends: resolving the longer one checks its prefixes."""
    ordered = sorted(set(paths))
    return [p for i, p in enumerate(ordered) if i + 1 == len(ordered) or ordered[i + 1][: len(p)] != p]


def check_rule(rule: Rule, source: SchemaSource, require_schema: bool = True) -> list[str]:
    parsed = parse_rule(rule)
    problems = list(parsed.problems)
    names = [k.kind for k in rule.targets]
    for kind in rule.targets:
        label = kind.kind if names.count(kind.kind) == 1 else str(kind)
        collector = collect_reads(parsed, kind.kind)
        problems += [p for p in collector.problems if p not in problems]
        problems += _check_kind(label, kind, collector.all_reads(), source, require_schema)
    return problems


def _check_kind(label: str, kind: KindRef, reads: set[Path], source: SchemaSource,
                require_schema: bool) -> list[str]:
    if not reads:
        return []
    schema = source.schema_for(kind.group, kind.version, kind.kind)
    if schema is None:
        if not require_schema:
            return []
        return [f"{label}: {NO_SCHEMA} for {kind.api_version} {kind.kind}, so its fields cannot be checked"]
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for path in leaves(reads):
        found = resolve(schema, path[1:])
        if found.ok:
            continue
        failing = path[: found.depth + 2]  # the root, the segments that resolved, and the one that did not
        # containers[], initContainers[] and ephemeralContainers[] share one mistake: say it once.
        key = (failing[-1], found.problem)
        if key not in seen:
            seen.add(key)
            hint = _elsewhere(schema, failing[-1]) if found.problem.startswith("no such field") else ""
            problems.append(f"{label}: {format_path(failing[0], failing[1:])}: {found.problem}{hint}")
    return problems


def _elsewhere(schema: KindSchema, name: str) -> str:
    """Where a field of that name does exist (`backupRetentionDays` lives under spec.backup)."""
    places = [format_path("object", f.path) for f in declared_fields(schema, under=(), depth=5) if f.name == name]
    return f"; a field of that name exists at {', '.join(places[:3])}" if places else ""


def make_field_checker(source: SchemaSource, require_schema: bool = True) -> FieldCheck:
    """The `field_check` for `run_pipeline`: human-readable problems, empty when the rule is sound.

    With `require_schema`, a target kind the source does not know is a problem
    (the rule cannot be verified); without it, such kinds are skipped.
    """

    def check(rule: Rule) -> list[str]:
        return check_rule(rule, source, require_schema)

    return check
