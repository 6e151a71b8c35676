"""Which policy API to emit, and the dispatch from a rule to that API's objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Rule

EngineName = Literal["ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"]


@dataclass(frozen=True)
class EngineTarget:
    engine: EngineName
    api_version: str
    # ClusterPolicy only: Kyverno 1.13 moved failureAction from the spec into each rule.
    rule_level_failure_action: bool = True

    def describe(self) -> str:
        return f"{self.engine} ({self.api_version})"


VALIDATING_POLICY_V1 = EngineTarget("ValidatingPolicy", "policies.kyverno.io/v1")
CLUSTER_POLICY = EngineTarget("ClusterPolicy", "kyverno.io/v1")
VAP_V1 = EngineTarget("ValidatingAdmissionPolicy", "admissionregistration.k8s.io/v1")
OFFLINE_DEFAULTS: dict[str, EngineTarget] = {
    "auto": VALIDATING_POLICY_V1, "ValidatingPolicy": VALIDATING_POLICY_V1, "ClusterPolicy": CLUSTER_POLICY,
    "ValidatingAdmissionPolicy": VAP_V1,
}


def compile_rule(pattern: Pattern, rule: Rule, target: EngineTarget) -> list[dict[str, Any]]:
    """The objects that enforce one rule on the target engine (a VAP also needs its binding)."""
    from patternpolicy.compile import clusterpolicy, validatingpolicy, vap

    if target.engine == "ValidatingPolicy":
        return [validatingpolicy.compile_validating_policy(pattern, rule, target.api_version)]
    if target.engine == "ClusterPolicy":
        return [clusterpolicy.compile_cluster_policy(pattern, rule, target.rule_level_failure_action)]
    return vap.compile_vap(pattern, rule)
