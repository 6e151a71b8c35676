"""Kubernetes ValidatingAdmissionPolicy + binding: enforcement with no Kyverno installed."""

from __future__ import annotations

from typing import Any

from patternpolicy.compile.naming import policy_annotations, policy_labels, policy_name
from patternpolicy.compile.validatingpolicy import admission_spec
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Rule

API_VERSION = "admissionregistration.k8s.io/v1"


def compile_vap(pattern: Pattern, rule: Rule) -> list[dict[str, Any]]:
    generation = pattern.spec.policy_generation
    name = policy_name(pattern.ref.name, rule.id)
    labels = policy_labels(pattern.ref, rule.id)
    spec = {"failurePolicy": "Fail", **admission_spec(pattern, rule)}
    policy = {
        "apiVersion": API_VERSION, "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": labels,
                     "annotations": policy_annotations(rule.description, pattern.spec.description)},
        "spec": spec,
    }
    actions = ["Deny"] if generation.failure_action == "Enforce" else ["Audit", "Warn"]
    binding = {
        "apiVersion": API_VERSION, "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": labels},
        "spec": {"policyName": name, "validationActions": actions},
    }
    return [policy, binding]
