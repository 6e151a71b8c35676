"""What may be applied, decided without a cluster: guard, content, provenance, phases, approval refusals."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.models.pattern import PatternRef
from patternpolicy.reconcile.approval import approval_refusal
from patternpolicy.reconcile.proposal_status import Observed, proposal_status, superseded_status
from patternpolicy.reconcile.proposals import content_digest
from patternpolicy.reconcile.provenance import awaiting_provenance, provenance_of, trust
from patternpolicy.reconcile.status import pattern_status_from_proposals
from patternpolicy.services.guard import guard_problems
from patternpolicy.services.validation import content_problems

ROOT = Path(__file__).resolve().parents[2]
NS = "patternpolicy-system"
PROTECTED = {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
             "values": ["kube-system", "kyverno", "patternpolicy-system"]}


ACCOUNT = (NS, "patternpolicy")


def guard(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    text = path.read_text()
    for template, value in (("{{ .Release.Namespace }}", NS), ('{{ include "patternpolicy.fullname" . }}', "pp"),
                            ('{{ include "patternpolicy.serviceAccountName" . }}', "patternpolicy")):
        text = text.replace(template, value)
    text = "\n".join(line for line in text.splitlines() if "{{" not in line)  # the chart's label helpers
    policy, binding = list(yaml.safe_load_all(text))
    return policy, binding


@pytest.mark.parametrize("path", [ROOT / "deploy" / "approval-guard.yaml",
                                  ROOT / "charts" / "patternpolicy" / "templates" / "approval-guard.yaml"])
def test_the_shipped_guard_is_what_the_operator_expects(path: Path) -> None:
    assert guard_problems(*map(lambda d: [d], guard(path)), ACCOUNT) == []


def test_a_missing_or_weakened_guard_is_reported() -> None:
    policy, binding = guard(ROOT / "deploy" / "approval-guard.yaml")
    assert guard_problems([policy], [], ACCOUNT) == \
        ["patternpolicy-operator-cannot-approve: no ValidatingAdmissionPolicyBinding binds it"]
    assert guard_problems([], [binding], ACCOUNT) == ["no ValidatingAdmissionPolicy labelled "
                                                      "app.kubernetes.io/component=approval-guard"]
    weakened = copy.deepcopy(policy)
    weakened["spec"]["validations"][0]["expression"] = "true"
    assert guard_problems([weakened], [binding], ACCOUNT) == \
        ["patternpolicy-operator-cannot-approve: its validations no longer forbid setting spec.approved"]
    audit = copy.deepcopy(binding)
    audit["spec"]["validationActions"] = ["Audit"]
    assert guard_problems([policy], [audit], ACCOUNT) == \
        ["patternpolicy-operator-cannot-approve: the binding does not deny"]
    other = copy.deepcopy(policy)
    other["spec"]["matchConditions"][0]["expression"] = "request.userInfo.username == 'nobody'"
    assert len(guard_problems([other], [binding], ACCOUNT)) == 1
    assert guard_problems([policy], [binding], ("elsewhere", "patternpolicy")), "it must name the operator's account"
    # A decoy next to the real guard does not hide it.
    assert guard_problems([weakened, policy], [binding], ACCOUNT) == []


def vpol(name: str = "p-rule", selector: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": {"name": name},
            "spec": {"validationActions": ["Deny"], "matchConstraints": {
                "namespaceSelector": selector or {"matchExpressions": [PROTECTED]}},
                "validations": [{"expression": "true"}]}}


def test_only_validating_policies_of_the_engine_in_use() -> None:
    assert content_problems([vpol()], "ValidatingPolicy") == []
    assert content_problems([vpol()], "ValidatingAdmissionPolicy"), "another engine's kind"
    mutate = {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "m"},
              "spec": {"rules": [{"name": "add", "match": {}, "mutate": {"patchStrategicMerge": {}}}]}}
    assert "does not only validate (mutate)" in content_problems([mutate], "ClusterPolicy")[0]
    validate = {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "v"},
                "spec": {"rules": [{"name": "v", "match": {}, "validate": {"cel": {}}}]}}
    assert content_problems([validate], "ClusterPolicy") == []
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}
    assert content_problems([role], None)


def test_protected_namespaces_stay_excluded_unless_named() -> None:
    everywhere = vpol(selector={"matchExpressions": []})
    assert "does not exclude kube-system, kyverno, patternpolicy-system" in content_problems([everywhere], None)[0]
    named = vpol(selector={"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                                 "values": ["kube-system"]}]})
    assert content_problems([named], None) == []


def proposal(**status: Any) -> dict[str, Any]:
    spec = {"patternRef": {"name": "p", "uid": "u1", "generation": 2}, "approved": True, "policies": [vpol()],
            "tests": []}
    return {"metadata": {"name": "p-g2", "resourceVersion": "1", "creationTimestamp": "2020-01-01T00:00:00Z",
                         "ownerReferences": [{"apiVersion": "patternpolicy.io/v1alpha1", "kind": "Pattern",
                                              "name": "p", "uid": "u1", "controller": True}]},
            "spec": spec, "status": status}


PATTERN = {"metadata": {"name": "p", "uid": "u1", "generation": 2}}


def test_provenance_binds_pattern_generation_and_content() -> None:
    made = proposal()
    assert trust(made["metadata"], made["spec"], {}, PATTERN).reason == "NotGeneratedByOperator"
    status = {"provenance": provenance_of(PatternRef(name="p", uid="u1", generation=2), made["spec"])}
    assert trust(made["metadata"], made["spec"], status, PATTERN).trusted
    edited = copy.deepcopy(made["spec"])
    edited["policies"][0]["spec"]["validations"][0]["expression"] = "false"
    assert trust(made["metadata"], edited, status, PATTERN).reason == "ContentChanged"
    other = {"metadata": {"name": "p", "uid": "u2", "generation": 2}}
    assert trust(made["metadata"], made["spec"], status, other).reason == "PatternGone"
    renamed = {**made["metadata"], "name": "q-g2"}
    assert trust(renamed, made["spec"], status, PATTERN).reason == "NotGeneratedByOperator"
    assert not awaiting_provenance(made["metadata"], {}), "created long ago: no more waiting"


def observed(**changes: Any) -> Observed:
    base = {"approved": True, "valid": True, "validation_message": "ok", "trusted": True,
            "trust_reason": "GeneratedByOperator", "trust_message": "ok"}
    return Observed(**{**base, **changes})


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_phases_and_conditions_follow_what_was_observed() -> None:
    unproven = proposal_status(observed(proven=False, proof_message="behaviour skipped"), [], 1)
    assert unproven["phase"] == "Failed"
    assert conditions(unproven)["Proven"] == ("False", "BehaviourNotProven")
    assert conditions(unproven)["Applied"] == ("False", "BehaviourNotProven")
    allowed = proposal_status(observed(proven=False, allow_unproven=True), [], 1)
    assert allowed["phase"] == "Approved"
    guard = proposal_status(observed(outcome="GuardMissing", outcome_message="guard gone"), [], 1)
    assert (guard["phase"], conditions(guard)["Applied"]) == ("Approved", ("False", "ApprovalGuardMissing"))
    conflict = proposal_status(observed(outcome="Conflict", outcome_message="VAP x"), [], 1)
    assert (conflict["phase"], conditions(conflict)["Applied"]) == ("Failed", ("False", "Conflict"))
    applied = proposal_status(observed(outcome="Applied"), conflict["conditions"], 1)
    assert (applied["phase"], conditions(applied)["Applied"]) == ("Applied", ("True", "PolicyApplied"))
    outdated = proposal_status(observed(newer="p-g3", current_generation=3), [], 1)
    assert (outdated["phase"], conditions(outdated)["Approved"]) == ("Failed", ("False", "OutdatedGeneration"))
    untrusted = proposal_status(observed(trusted=False, trust_reason="NotGeneratedByOperator"), [], 1)
    assert (untrusted["phase"], conditions(untrusted)["Trusted"][0]) == ("Invalid", "False")
    drifted = proposal_status(observed(in_force=True, drifted=["x"], drift_message="changed"), [], 1)
    assert conditions(drifted)["Drifted"] == ("True", "ContentChanged") and drifted["phase"] == "Applied"
    repaired = proposal_status(observed(in_force=True, outcome="Applied"), drifted["conditions"], 1)
    assert conditions(repaired)["Drifted"][0] == "False"
    superseded = superseded_status(applied["conditions"], "p-g3", 1)
    assert conditions(superseded)["Applied"] == ("False", "Superseded")


def test_approve_refuses_what_would_not_be_applied() -> None:
    made = proposal()
    spec = {**made["spec"], "approved": False}
    good = {"phase": "Pending", "digest": content_digest(spec), "validation": {"behaviour": {"result": "Passed"}},
            "provenance": provenance_of(PatternRef(name="p", uid="u1", generation=2), spec)}
    assert approval_refusal({**made, "spec": spec, "status": good}, PATTERN, False) is None
    newer = {"metadata": {"name": "p", "uid": "u1", "generation": 3}}
    assert "approve p-g3 instead" in str(approval_refusal({**made, "spec": spec, "status": good}, newer, False))
    invalid = {**good, "phase": "Invalid", "validation": {"schema": {"result": "Failed", "detail": "bad"}}}
    assert "Invalid (schema: bad)" in str(approval_refusal({**made, "spec": spec, "status": invalid}, PATTERN, False))
    superseded = {**good, "phase": "Superseded", "supersededBy": "p-g3"}
    assert "Superseded by p-g3" in str(approval_refusal({**made, "spec": spec, "status": superseded}, PATTERN, False))
    skipped = {**good, "validation": {"behaviour": {"result": "Skipped", "detail": "no CLI"}}}
    assert "--allow-unproven" in str(approval_refusal({**made, "spec": spec, "status": skipped}, PATTERN, False))
    assert approval_refusal({**made, "spec": spec, "status": skipped}, PATTERN, True) is None
    assert "NotGeneratedByOperator" in str(approval_refusal({**made, "spec": spec, "status": {}}, PATTERN, False))


def test_pattern_status_follows_the_proposals_that_exist() -> None:
    applied = {"metadata": {"name": "p-g1"}, "status": {"phase": "Applied", "appliedPolicies": [
        {"apiVersion": "v", "kind": "K", "name": "p-r", "specDigest": "sha256:x"}]}}
    pending = {"metadata": {"name": "p-g2"}, "status": {"phase": "Pending"}}
    both = pattern_status_from_proposals({"summary": "Proposed (p-g2)"}, [applied, pending])
    assert both["summary"] == "Applied (p-g1); p-g2 awaits approval"
    assert both["appliedPolicies"] == [{"apiVersion": "v", "kind": "K", "name": "p-r", "proposal": "p-g1"}]
    gone = pattern_status_from_proposals({"summary": both["summary"]}, [])
    assert gone == {"proposals": [], "appliedPolicies": [], "summary": "NoProposal"}
    assert pattern_status_from_proposals({"summary": "NotEnforceable"}, [])["summary"] == "NotEnforceable"
