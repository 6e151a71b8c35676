"""Kyverno ClusterPolicy with validate.cel (Kyverno 1.11-1.16; deprecated from 1.17)."""

from __future__ import annotations

from typing import Any

from patternpolicy.compile.naming import policy_annotations, policy_labels, policy_name
from patternpolicy.compile.scope import namespace_selector
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import KindRef, Rule


def kyverno_kind(kind: KindRef) -> str:
    return kind.kind if not kind.group else f"{kind.group}/{kind.version}/{kind.kind}"


def compile_cluster_policy(pattern: Pattern, rule: Rule, rule_level_failure_action: bool = True) -> dict[str, Any]:
    generation = pattern.spec.policy_generation
    action = generation.failure_action  # Enforce | Audit
    resources: dict[str, Any] = {"kinds": [kyverno_kind(k) for k in rule.targets],
                                 "operations": list(rule.operations)}
    selector = namespace_selector(generation.namespaces)
    if selector["matchExpressions"] and any(k.namespaced for k in rule.targets):
        resources["namespaceSelector"] = selector
    cel: dict[str, Any] = {"expressions": [v.model_dump() for v in rule.validations]}
    if rule.variables:
        cel["variables"] = [v.model_dump() for v in rule.variables]
    validate: dict[str, Any] = {"cel": cel}
    spec: dict[str, Any] = {"background": True}
    if rule_level_failure_action:
        validate = {"failureAction": action, **validate}
    else:
        spec["validationFailureAction"] = action
    spec["rules"] = [{"name": rule.id, "match": {"any": [{"resources": resources}]}, "validate": validate}]
    annotations = policy_annotations(rule.description, pattern.spec.description)
    # The rule already matches every pod controller and reads pod specs through variables.
    annotations["pod-policies.kyverno.io/autogen-controllers"] = "none"
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": policy_name(pattern.ref.name, rule.id),
                     "labels": policy_labels(pattern.ref, rule.id), "annotations": annotations},
        "spec": spec,
    }
