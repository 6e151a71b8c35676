"""The approval guard: the admission policy that forbids the operator's own account to approve.

The operator applies nothing while the guard is missing or altered (fail closed): an operator
that could approve its own proposals would make the human approval meaningless.
`guard_state()` is the one place that reads it; a metric or a probe can call it too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patternpolicy.adapters.kube import KubeError, get_cluster_object

GUARD_NAME = "patternpolicy-operator-cannot-approve"
VAP = ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies")
BINDING = ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings")
# What deploy/approval-guard.yaml and the chart install; compared with whitespace collapsed.
APPROVE_EXPRESSION = ("!(has(object.spec.approved) && object.spec.approved == true) || "
                      "(request.operation == 'UPDATE' && has(oldObject.spec.approved) && "
                      "oldObject.spec.approved == true)")
UNPROVEN_EXPRESSION = ("!(has(object.spec.allowUnproven) && object.spec.allowUnproven == true) || "
                       "(request.operation == 'UPDATE' && has(oldObject.spec.allowUnproven) && "
                       "oldObject.spec.allowUnproven == true)")
_SA_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class GuardState:
    intact: bool
    problems: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "approval guard in place" if self.intact else (
            f"approval guard {GUARD_NAME} is missing or altered ({'; '.join(self.problems)}); nothing is applied "
            "until it is restored: kubectl apply -f deploy/approval-guard.yaml")


def operator_namespace() -> str:
    """PATTERNPOLICY_NAMESPACE, else the pod's own namespace, else the default install namespace."""
    configured = os.environ.get("PATTERNPOLICY_NAMESPACE")
    if configured:
        return configured
    try:
        return _SA_FILE.read_text().strip() or "patternpolicy-system"
    except OSError:
        return "patternpolicy-system"


def _squash(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _narrows(match: dict[str, Any], rules_too: bool = True) -> bool:
    """Selectors or rules that leave some requests out (the apiserver defaults selectors to {})."""
    keys = ("excludeResourceRules", "resourceRules") if rules_too else ("excludeResourceRules",)
    return any(match.get(k) for k in keys) or any(match.get(k) not in (None, {})
                                                  for k in ("namespaceSelector", "objectSelector"))


def guard_problems(policy: dict[str, Any] | None, binding: dict[str, Any] | None, namespace: str) -> list[str]:
    """What is wrong with the guard as found (empty: intact). Pure."""
    problems = []
    if policy is None:
        problems.append(f"ValidatingAdmissionPolicy {GUARD_NAME} not found")
    else:
        spec = policy.get("spec") or {}
        if spec.get("failurePolicy", "Fail") != "Fail":
            problems.append("failurePolicy is not Fail")
        rules = (spec.get("matchConstraints") or {}).get("resourceRules") or []
        covered = any("patternpolicy.io" in (r.get("apiGroups") or [])
                      and "policyproposals" in (r.get("resources") or [])
                      and {"CREATE", "UPDATE"} <= set(r.get("operations") or []) for r in rules)
        if not covered or _narrows(spec.get("matchConstraints") or {}, rules_too=False):
            problems.append("it no longer matches CREATE and UPDATE of policyproposals")
        account = f"request.userInfo.username == 'system:serviceaccount:{namespace}:patternpolicy'"
        if [_squash(m.get("expression")) for m in spec.get("matchConditions") or []] != [account]:
            problems.append(f"its matchConditions do not select exactly the operator's account ({account})")
        validations = [_squash(v.get("expression")) for v in spec.get("validations") or []]
        for expression, field_ in ((APPROVE_EXPRESSION, "approved"), (UNPROVEN_EXPRESSION, "allowUnproven")):
            if _squash(expression) not in validations:
                problems.append(f"its validations no longer forbid setting spec.{field_}")
    if binding is None:
        problems.append(f"ValidatingAdmissionPolicyBinding {GUARD_NAME} not found")
    else:
        spec = binding.get("spec") or {}
        if spec.get("policyName") != GUARD_NAME:
            problems.append("the binding names another policy")
        if "Deny" not in (spec.get("validationActions") or []):
            problems.append("the binding does not deny")
        if _narrows(spec.get("matchResources") or {}) or spec.get("paramRef"):
            problems.append("the binding narrows what the guard matches")
    return problems


def guard_state() -> GuardState:
    """Reads the guard from the cluster; an unreadable guard counts as missing."""
    try:
        policy = get_cluster_object(*VAP, GUARD_NAME)
        binding = get_cluster_object(*BINDING, GUARD_NAME)
    except KubeError as exc:
        return GuardState(False, [f"cannot read it: {exc}"])
    problems = guard_problems(policy, binding, operator_namespace())
    return GuardState(not problems, problems)
