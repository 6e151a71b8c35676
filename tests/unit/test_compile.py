"""ValidatingPolicy output: names, labels, scope and actions set by code."""

from __future__ import annotations

from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern, PatternRef, parse_pattern_spec
from patternpolicy.reconcile.proposals import build_proposal, content_digest, decide
from patternpolicy.services.pipeline import run_pipeline


def generated(spec: dict[str, object], name: str = "no-priv", generation: int = 3):  # type: ignore[no-untyped-def]
    pattern = Pattern(ref=PatternRef(name=name, uid="u-1", generation=generation), spec=parse_pattern_spec(spec))
    return run_pipeline(pattern, OfflineAnalyzer(), KindCatalog.builtin())


def test_policy_names_labels_and_match_are_deterministic() -> None:
    result = generated({"description": "Containers must not run in privileged mode"})
    (policy,) = result.policies
    assert policy["apiVersion"] == "policies.kyverno.io/v1" and policy["kind"] == "ValidatingPolicy"
    assert policy["metadata"]["name"] == "no-priv-no-privileged"
    assert policy["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "patternpolicy", "patternpolicy.io/pattern": "no-priv",
        "patternpolicy.io/pattern-generation": "3", "patternpolicy.io/rule": "no-privileged",
        "patternpolicy.io/pattern-uid": "u-1"}
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rules[0] == {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                        "resources": ["pods", "replicationcontrollers"]}
    assert {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
            "resources": ["daemonsets", "deployments", "replicasets", "statefulsets"]} in rules
    assert generated({"description": "Containers must not run in privileged mode"}).policies == [policy]


def test_protected_namespaces_are_excluded_unless_included() -> None:
    (policy,) = generated({"description": "Containers must not run in privileged mode"}).policies
    (expr,) = policy["spec"]["matchConstraints"]["namespaceSelector"]["matchExpressions"]
    assert expr["operator"] == "NotIn" and "kube-system" in expr["values"]
    (policy,) = generated({"description": "Containers must not run in privileged mode",
                           "policyGeneration": {"namespaces": {"include": ["kube-system"]}}}).policies
    included, excluded = policy["spec"]["matchConstraints"]["namespaceSelector"]["matchExpressions"]
    assert included == {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["kube-system"]}
    assert "kube-system" not in excluded["values"]


def test_audit_failure_action() -> None:
    (policy,) = generated({"description": "Containers must not run in privileged mode",
                           "policyGeneration": {"failureAction": "Audit"}}).policies
    assert policy["spec"]["validationActions"] == ["Audit"]


def test_samples_live_in_a_namespace_the_policy_governs() -> None:
    result = generated({"description": "Deployments must run at least two replicas",
                        "policyGeneration": {"namespaces": {"include": ["payments"]}}})
    assert {t["resource"]["metadata"]["namespace"] for t in result.tests} == {"payments"}


def test_disabled_generation_declines() -> None:
    result = generated({"description": "Containers must not run in privileged mode",
                        "policyGeneration": {"enabled": False}})
    assert not result.enforceable and "disabled" in result.reason


def test_proposal_and_approval_decisions() -> None:
    proposal = build_proposal(generated({"description": "Containers must not run in privileged mode"}))
    assert proposal["metadata"]["name"] == "no-priv-g3"
    assert proposal["spec"]["approved"] is False
    spec = proposal["spec"]
    digest = content_digest(spec)
    assert decide(spec, {}).action == "validate"
    assert decide(spec, {"digest": digest, "phase": "Pending"}).action == "wait"
    approved = {**spec, "approved": True}
    assert decide(approved, {"digest": digest, "phase": "Pending"}).action == "apply"
    assert decide(approved, {"digest": digest, "phase": "Invalid"}).action == "done"
    # Invalid with valid content is untrusted only (its ownerReference removed, say): once trusted again, the
    # approval takes effect; `blocked` refuses it while it is not.
    assert decide(approved, {"digest": digest, "phase": "Invalid", "validationPassed": True}).action == "apply"
    assert decide(approved, {"digest": digest, "phase": "Invalid", "validationPassed": False}).action == "done"
    edited = {**approved, "tests": approved["tests"][1:]}
    assert decide(edited, {"digest": digest, "phase": "Applied"}).action == "void"
    assert decide(edited, {"digest": content_digest(edited), "phase": "Pending",
                           "approvalVoided": True}).action == "wait"
    assert decide({**edited, "approved": False}, {"digest": content_digest(edited), "phase": "Pending",
                                                  "approvalVoided": True}).action == "reset-void"
