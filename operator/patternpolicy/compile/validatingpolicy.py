"""Kyverno ValidatingPolicy (policies.kyverno.io, CEL) from rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from patternpolicy.compile.naming import policy_annotations, policy_labels, policy_name
from patternpolicy.compile.scope import namespace_selector
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import KindRef, Rule

API_VERSION = "policies.kyverno.io/v1"
KIND = "ValidatingPolicy"


def resource_rules(targets: list[KindRef], operations: Sequence[str]) -> list[dict[str, Any]]:
    """One admission resource rule per group/version, resources sorted for stable output."""
    by_gv: dict[tuple[str, str], set[str]] = defaultdict(set)
    for kind in targets:
        by_gv[(kind.group, kind.version)].add(kind.plural)
    return [
        {"apiGroups": [group], "apiVersions": [version], "operations": list(operations),
         "resources": sorted(plurals)}
        for (group, version), plurals in sorted(by_gv.items())
    ]


def admission_spec(pattern: Pattern, rule: Rule) -> dict[str, Any]:
    """matchConstraints, variables and validations: the part ValidatingPolicy and VAP share."""
    match: dict[str, Any] = {"resourceRules": resource_rules(rule.targets, rule.operations)}
    if any(k.namespaced or (k.group, k.kind) == ("", "Namespace") for k in rule.targets):
        # Admission ignores namespaceSelector for cluster-scoped objects other than Namespaces: a rule on
        # cluster-scoped kinds alone (Crossplane managed resources) applies cluster-wide, and says so.
        match["namespaceSelector"] = namespace_selector(pattern.spec.policy_generation.namespaces)
    spec: dict[str, Any] = {"matchConstraints": match}
    if rule.variables:
        spec["variables"] = [v.model_dump() for v in rule.variables]
    spec["validations"] = [v.model_dump() for v in rule.validations]
    return spec


def compile_validating_policy(pattern: Pattern, rule: Rule, api_version: str = API_VERSION) -> dict[str, Any]:
    action = "Deny" if pattern.spec.policy_generation.failure_action == "Enforce" else "Audit"
    spec = {"validationActions": [action], **admission_spec(pattern, rule)}
    return {
        "apiVersion": api_version,
        "kind": KIND,
        "metadata": {
            "name": policy_name(pattern.ref.name, rule.id),
            "labels": policy_labels(pattern.ref, rule.id),
            "annotations": policy_annotations(rule.description, pattern.spec.description),
        },
        "spec": spec,
    }
