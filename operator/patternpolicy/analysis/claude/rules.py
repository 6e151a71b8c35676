"""From the model's proposal to Rules: kinds resolved against the cluster, CEL checked, samples placed.

Names (rule ids) are chosen here, never by the model.
"""

from __future__ import annotations

import json
from typing import Any

from patternpolicy.analysis.claude.schema import Proposal, ProposedRule
from patternpolicy.analysis.podspec import POD_VARIABLES
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.rules import KindRef, Rule, Sample, Validation, Variable, Verdict
from patternpolicy.models.text import unsafe_characters


def _cel_problems(expression: str) -> list[str]:
    unsafe = unsafe_characters(expression)
    if unsafe:  # a reviewer would read other CEL than the engine runs ("Trojan Source")
        return [f"CEL contains control or text-direction characters ({', '.join(unsafe)}): "
                "write them as escapes such as \\u202e inside a string literal"]
    try:
        import celpy
    except ImportError:
        return []
    try:
        celpy.Environment().compile(expression)
    except Exception as exc:
        return [f"CEL does not parse: {expression!r}: {str(exc).splitlines()[0]}"]
    return []


def _samples(proposed: ProposedRule, targets: list[KindRef]) -> tuple[list[Sample], list[str]]:
    by_kind = {k.kind: k for k in targets}
    samples, problems = [], []
    pairs: tuple[tuple[Verdict, list[dict[str, Any]]], ...] = (("allow", proposed.compliant),
                                                                ("deny", proposed.violating))
    for verdict, objects in pairs:
        for obj in objects:
            kind = by_kind.get(str(obj.get("kind")))
            meta = obj.get("metadata") or {}
            if not isinstance(meta, dict):  # "metadata": "x" is fed back, never a crash (and a paid retry)
                problems.append(f"sample {obj.get('kind')}: metadata must be an object with a name")
                continue
            name = meta.get("name")
            if kind is None or not name or not isinstance(name, str):
                problems.append(f"sample {obj.get('kind')}/{name} must be one of the rule's kinds and have a name")
                continue
            resource = json.loads(json.dumps(obj))
            resource.setdefault("apiVersion", kind.api_version)
            if kind.namespaced:
                resource["metadata"].setdefault("namespace", "default")
            samples.append(Sample(resource=resource, expect=verdict))
    return samples, problems


def _resolve_kind(name: str, candidates: list[KindRef], catalog: KindCatalog) -> KindRef | str:
    """The kind the model meant, or why it cannot be told.

    One offered in this conversation (a candidate or a kind it looked up) wins ("FlexibleServer" is the
    one offered, not its namesake elsewhere); a bare name shared by several offered kinds is a question
    back to the model, never a guess; else any served kind of that name.
    """
    offered = [k for k in candidates if name in (k.kind, str(k), k.plural)]
    if len(offered) > 1:
        return (f"kind {name!r} names several kinds offered ({', '.join(str(k) for k in offered)}): "
                "write the one meant as Kind.group")
    kind = offered[0] if offered else catalog.by_kind(name)
    return kind or f"kind {name!r} is not served by this cluster (the look_up_kinds tool finds served kinds)"


def to_rules(proposal: Proposal, catalog: KindCatalog,
             candidates: list[KindRef] | None = None) -> tuple[list[Rule], list[str]]:
    rules, problems = [], []
    for index, proposed in enumerate(proposal.rules, start=1):
        rule_id = f"rule-{index}"  # names are chosen by code, never by the model
        targets = []
        for name in proposed.kinds:
            kind = _resolve_kind(name, candidates or [], catalog)
            if isinstance(kind, str):
                problems.append(f"{rule_id}: {kind}")
            elif kind not in targets:
                targets.append(kind)
        reserved = {v.name for v in POD_VARIABLES}
        variables = [Variable(name=v.name, expression=v.expression) for v in proposed.variables
                     if v.name not in reserved]
        expressions = [v.expression for v in variables] + [v.expression for v in proposed.validations]
        if any(f"variables.{v.name}" in e for e in expressions for v in POD_VARIABLES):
            variables = [*POD_VARIABLES, *variables]
        for expression in expressions:
            problems += [f"{rule_id}: {p}" for p in _cel_problems(expression)]
        samples, sample_problems = _samples(proposed, targets)
        problems += [f"{rule_id}: {p}" for p in sample_problems]
        if not targets:
            continue
        rules.append(Rule(
            id=rule_id, description=proposed.summary, targets=targets, variables=variables,
            validations=[Validation(expression=v.expression, message=v.message) for v in proposed.validations],
            samples=samples))
    return rules, problems
