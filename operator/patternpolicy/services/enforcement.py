"""What a failed check does under each policy: deny the request (Enforce) or only report it (Audit, Warn).

Each engine says it its own way: a ValidatingPolicy's `validationActions` (Deny, Audit, Warn), a
ClusterPolicy rule's `validate.failureAction` or the policy's `validationFailureAction` (Audit when
unset, Kyverno's default), a ValidatingAdmissionPolicy's bindings' `validationActions` (none bound:
nothing is denied).
"""

from __future__ import annotations

from typing import Any, Literal

FailureAction = Literal["Enforce", "Audit", "Mixed"]
Check = tuple[str, str]  # (policy, rule): a CEL policy without rules is its own rule


def _name(policy: dict[str, Any]) -> str:
    return str((policy.get("metadata") or {}).get("name", ""))


def _enforced(action: Any) -> bool:
    return str(action or "Audit").lower() == "enforce"


def deny_checks(policies: list[dict[str, Any]]) -> dict[Check, bool]:
    """Every check the policies make -> whether failing it denies."""
    bound: dict[str, bool] = {}
    for policy in policies:
        if policy.get("kind") == "ValidatingAdmissionPolicyBinding":
            spec = policy.get("spec") or {}
            name = str(spec.get("policyName", ""))
            bound[name] = bound.get(name, False) or "Deny" in (spec.get("validationActions") or [])
    checks: dict[Check, bool] = {}
    for policy in policies:
        kind, name, spec = policy.get("kind"), _name(policy), policy.get("spec") or {}
        if kind == "ClusterPolicy":
            default = spec.get("validationFailureAction")
            for rule in spec.get("rules") or []:
                action = (rule.get("validate") or {}).get("failureAction") or default
                checks[(name, str(rule.get("name", "")))] = _enforced(action)
        elif kind == "ValidatingPolicy":
            # Unset means Deny to Kyverno (its ValidatingPolicy treats no actions as the admission default).
            checks[(name, name)] = "Deny" in (spec.get("validationActions") or ["Deny"])
        elif kind == "ValidatingAdmissionPolicy":
            checks[(name, name)] = bound.get(name, False)
    return checks


def denies(checks: dict[Check, bool], failed: Check) -> bool:
    """Whether failing this check denies; a check the policies do not name (the engine's wording of a
    rule differs) takes its policy's, and a policy's checks deny if any does."""
    if failed in checks:
        return checks[failed]
    return any(deny for (policy, _), deny in checks.items() if policy == failed[0])


def failure_action(policies: list[dict[str, Any]]) -> FailureAction:
    """Enforce when every check denies, Audit when none does, Mixed otherwise."""
    actions = set(deny_checks(policies).values())
    if actions == {True}:
        return "Enforce"
    return "Mixed" if len(actions) > 1 else "Audit"
