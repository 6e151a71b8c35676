"""The approval guard: the admission policy that forbids the operator's own account to approve.

The operator applies nothing while the guard is missing or altered (fail closed): an operator
that could approve its own proposals would make the human approval meaningless.
`guard_state()` is the one place that reads it; a metric or a probe can call it too.

The guard is found by its label (kustomize and Helm prefix its name) and is intact when some
ValidatingAdmissionPolicy with that label, and a binding of it, are as shipped and name the
operator's own ServiceAccount.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patternpolicy import metrics
from patternpolicy.adapters.kube import KubeError, list_cluster_objects

GUARD_LABEL = "app.kubernetes.io/component=approval-guard"
VAP = ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies")
BINDING = ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings")
# What deploy/approval-guard.yaml and the chart install; compared with whitespace collapsed.
APPROVE_EXPRESSION = ("!(has(object.spec.approved) && object.spec.approved == true) || "
                      "(request.operation == 'UPDATE' && has(oldObject.spec.approved) && "
                      "oldObject.spec.approved == true)")
UNPROVEN_EXPRESSION = ("!(has(object.spec.allowUnproven) && object.spec.allowUnproven == true) || "
                       "(request.operation == 'UPDATE' && has(oldObject.spec.allowUnproven) && "
                       "oldObject.spec.allowUnproven == true)")
PARAM_ACCOUNT = ("request.userInfo.username == 'system:serviceaccount:' + params.metadata.namespace + ':' + "
                 "params.metadata.name")
_SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class GuardState:
    intact: bool
    problems: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "approval guard in place" if self.intact else (
            f"the approval guard is missing or altered ({'; '.join(self.problems)}); nothing is applied until it "
            "is restored (deploy/approval-guard.yaml, or the chart)")


def operator_namespace() -> str:
    """PATTERNPOLICY_NAMESPACE, else the pod's own namespace, else the default install namespace."""
    configured = os.environ.get("PATTERNPOLICY_NAMESPACE")
    if configured:
        return configured
    try:
        return (_SA_DIR / "namespace").read_text().strip() or "patternpolicy-system"
    except OSError:
        return "patternpolicy-system"


def operator_account() -> tuple[str, str]:
    """(namespace, name) of the operator's ServiceAccount: PATTERNPOLICY_SERVICE_ACCOUNT (`namespace:name`),
    else the subject of the pod's own token, else `<operator namespace>:patternpolicy`."""
    configured = os.environ.get("PATTERNPOLICY_SERVICE_ACCOUNT", "").removeprefix("system:serviceaccount:")
    if configured.count(":") == 1:
        namespace, name = configured.split(":")
        return namespace, name
    try:
        payload = (_SA_DIR / "token").read_text().split(".")[1]
        subject = str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("sub", ""))
    except (OSError, IndexError, ValueError):
        subject = ""
    parts = subject.split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        return parts[2], parts[3]
    return operator_namespace(), "patternpolicy"


def _squash(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _narrows(match: dict[str, Any], rules_too: bool = True) -> bool:
    """Selectors or rules that leave some requests out (the apiserver defaults selectors to {})."""
    keys = ("excludeResourceRules", "resourceRules") if rules_too else ("excludeResourceRules",)
    return any(match.get(k) for k in keys) or any(match.get(k) not in (None, {})
                                                  for k in ("namespaceSelector", "objectSelector"))


def policy_problems(policy: dict[str, Any], account: tuple[str, str]) -> list[str]:
    """What is wrong with a guard ValidatingAdmissionPolicy (empty: as shipped). Pure."""
    problems = []
    spec = policy.get("spec") or {}
    if spec.get("failurePolicy", "Fail") != "Fail":
        problems.append("failurePolicy is not Fail")
    rules = (spec.get("matchConstraints") or {}).get("resourceRules") or []
    covered = any("patternpolicy.io" in (r.get("apiGroups") or []) and "policyproposals" in (r.get("resources") or [])
                  and {"CREATE", "UPDATE"} <= set(r.get("operations") or []) for r in rules)
    if not covered or _narrows(spec.get("matchConstraints") or {}, rules_too=False):
        problems.append("it no longer matches CREATE and UPDATE of policyproposals")
    literal = f"request.userInfo.username == 'system:serviceaccount:{account[0]}:{account[1]}'"
    conditions = [_squash(m.get("expression")) for m in spec.get("matchConditions") or []]
    param_kind = spec.get("paramKind") or {}
    by_param = conditions == [_squash(PARAM_ACCOUNT)] and (param_kind.get("apiVersion"), param_kind.get("kind")) \
        == ("v1", "ServiceAccount")
    if not by_param and conditions != [literal]:
        problems.append("its matchConditions do not select exactly the operator's account")
    validations = [_squash(v.get("expression")) for v in spec.get("validations") or []]
    for expression, field_ in ((APPROVE_EXPRESSION, "approved"), (UNPROVEN_EXPRESSION, "allowUnproven")):
        if _squash(expression) not in validations:
            problems.append(f"its validations no longer forbid setting spec.{field_}")
    return problems


def binding_problems(binding: dict[str, Any], policy: dict[str, Any], account: tuple[str, str]) -> list[str]:
    """What is wrong with a binding of the guard policy (empty: as shipped). Pure."""
    problems = []
    spec = binding.get("spec") or {}
    if "Deny" not in (spec.get("validationActions") or []):
        problems.append("the binding does not deny")
    if _narrows(spec.get("matchResources") or {}):
        problems.append("the binding narrows what the guard matches")
    param = spec.get("paramRef")
    if (policy.get("spec") or {}).get("paramKind"):
        if not param or (param.get("namespace"), param.get("name")) != account or param.get("selector") \
                or param.get("parameterNotFoundAction") != "Deny":
            problems.append(f"the binding's paramRef does not name the operator's ServiceAccount "
                            f"{account[0]}/{account[1]} with parameterNotFoundAction Deny")
    elif param:
        problems.append("the binding has a paramRef the policy does not use")
    return problems


def guard_problems(policies: list[dict[str, Any]], bindings: list[dict[str, Any]],
                   account: tuple[str, str]) -> list[str]:
    """Empty when some guard policy and one of its bindings are as shipped; else what is wrong. Pure."""
    if not policies:
        return [f"no ValidatingAdmissionPolicy labelled {GUARD_LABEL}"]
    found: list[str] = []
    for policy in policies:
        name = (policy.get("metadata") or {}).get("name")
        problems = [f"{name}: {p}" for p in policy_problems(policy, account)]
        ours = [b for b in bindings if (b.get("spec") or {}).get("policyName") == name]
        if not ours:
            problems.append(f"{name}: no ValidatingAdmissionPolicyBinding binds it")
        binding = min((binding_problems(b, policy, account) for b in ours), key=len, default=[])
        problems += [f"{name}: {p}" for p in binding]
        if not problems:
            return []
        found += problems
    return found


def guard_state() -> GuardState:
    """Reads the guard from the cluster; an unreadable guard counts as missing."""
    try:
        policies = list_cluster_objects(*VAP, label_selector=GUARD_LABEL)
        bindings = list_cluster_objects(*BINDING)
    except KubeError as exc:
        metrics.set_guard_present(False)
        return GuardState(False, [f"cannot read it: {exc}"])
    problems = guard_problems(policies, bindings, operator_account())
    metrics.set_guard_present(not problems)
    return GuardState(not problems, problems)
