"""Only what the operator generated and a person approved is applied; nothing while the guard is missing;
nothing over someone else's object; nothing unproven without the override (real apiserver, operator in-process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client

from patternpolicy.reconcile.proposals import content_digest
from tests.support.kube import eventually, get_or_none, install_guard

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
G, V = "patternpolicy.io", "v1alpha1"
VP = ("policies.kyverno.io", "v1", "validatingpolicies")
CP = ("kyverno.io", "v1", "clusterpolicies")
ADM = ("admissionregistration.k8s.io", "v1")
GUARD = "patternpolicy-operator-cannot-approve"


def proposal(api: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    return get_or_none(api, G, V, "policyproposals", name) or {}


def conditions(api: client.CustomObjectsApi, name: str) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in proposal(api, name).get("status", {}).get("conditions") or []}


def condition(api: client.CustomObjectsApi, name: str, type_: str, status: str, reason: str) -> dict[str, Any] | None:
    found = conditions(api, name).get(type_) or {}
    return found if (found.get("status"), found.get("reason")) == (status, reason) else None


def create_pattern(api: client.CustomObjectsApi, name: str, description: str = "Containers must not run in "
                   "privileged mode") -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name}, "spec": {"description": description}})
    eventually(lambda: proposal(api, f"{name}-g1").get("status", {}).get("phase") == "Pending",
               timeout=60, what=f"{name}-g1 Pending")


def approve(api: client.CustomObjectsApi, name: str, **extra: Any) -> None:
    api.patch_cluster_custom_object(G, V, "policyproposals", name, {"spec": {"approved": True, **extra}})


def cli(cluster: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patternpolicy.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}, timeout=120, check=False)


def test_hand_made_approved_proposal_is_never_applied(api: client.CustomObjectsApi, operator: KopfRunner,
                                                      cluster: Any) -> None:
    create_pattern(api, "victim")
    before = api.get_cluster_custom_object(G, V, "patterns", "victim")["status"]
    mutating = {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "add-label"},
                "spec": {"rules": [{"name": "add", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                                    "mutate": {"patchStrategicMerge": {"metadata": {"labels": {"owned": "yes"}}}}}]}}
    api.create_cluster_custom_object(G, V, "policyproposals", {
        "apiVersion": f"{G}/{V}", "kind": "PolicyProposal",
        "metadata": {"name": "victim-g9", "labels": {"patternpolicy.io/pattern": "victim"}},
        "spec": {"patternRef": {"name": "victim", "uid": "made-up", "generation": 9}, "approved": True,
                 "policies": [mutating]}})
    eventually(lambda: condition(api, "victim-g9", "Trusted", "False", "NotGeneratedByOperator"),
               what="hand-made proposal distrusted")
    status = proposal(api, "victim-g9")["status"]
    assert status["phase"] == "Invalid", status
    assert status["validation"]["content"]["result"] == "Failed"
    assert "does not only validate (mutate)" in status["validation"]["content"]["detail"]
    assert conditions(api, "victim-g9")["Applied"]["status"] == "False"
    assert get_or_none(api, *CP, "add-label") is None
    # The pattern's status does not speak for a proposal it did not get from the operator.
    after = api.get_cluster_custom_object(G, V, "patterns", "victim")["status"]
    assert (after["summary"], after.get("appliedPolicies") or []) == (before["summary"], [])
    assert "victim-g9" not in after["proposals"]

    refused = cli(cluster, "approve", "victim-g9")
    assert refused.returncode != 0 and "NotGeneratedByOperator" in refused.stderr, refused
    api.delete_cluster_custom_object(G, V, "policyproposals", "victim-g9")
    api.delete_cluster_custom_object(G, V, "patterns", "victim")


def test_a_mutating_rule_is_refused_even_with_forged_provenance(api: client.CustomObjectsApi,
                                                                operator: KopfRunner) -> None:
    create_pattern(api, "mut")
    mutating = {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "mut-add-label"},
                "spec": {"rules": [{"name": "add", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                                    "mutate": {"patchStrategicMerge": {"metadata": {"labels": {"owned": "yes"}}}}}]}}
    api.patch_cluster_custom_object(G, V, "policyproposals", "mut-g1", {"spec": {"policies": [mutating]}})
    stored = proposal(api, "mut-g1")
    # Someone who can write the proposal's status vouches for the new content: the content gate still holds.
    forged = {**stored["status"]["provenance"], "digest": content_digest(stored["spec"])}
    api.patch_cluster_custom_object_status(G, V, "policyproposals", "mut-g1", {"status": {"provenance": forged}})
    approve(api, "mut-g1")
    refused = eventually(lambda: condition(api, "mut-g1", "Approved", "False", "ValidationFailed"),
                         what="mutating content refused")
    assert "does not only validate (mutate)" in refused["message"]
    status = proposal(api, "mut-g1")["status"]
    assert status["phase"] == "Invalid"
    # The earlier content's verdicts are gone with it: nothing of the refused content was dry-run or judged.
    assert set(status["validation"]) == {"content", "impact"}, status["validation"]
    assert status["validation"]["impact"]["result"] == "Skipped", status["validation"]["impact"]
    assert get_or_none(api, *CP, "mut-add-label") is None
    api.delete_cluster_custom_object(G, V, "patterns", "mut")


def test_hand_edited_proposal_is_refused(api: client.CustomObjectsApi, operator: KopfRunner) -> None:
    create_pattern(api, "edited")
    policies = proposal(api, "edited-g1")["spec"]["policies"]
    policies[0]["spec"]["validations"][0]["expression"] = "true"
    api.patch_cluster_custom_object(G, V, "policyproposals", "edited-g1", {"spec": {"policies": policies}})
    eventually(lambda: condition(api, "edited-g1", "Trusted", "False", "ContentChanged"), what="edit noticed")
    approve(api, "edited-g1")
    eventually(lambda: proposal(api, "edited-g1")["status"].get("phase") == "Invalid" and
               condition(api, "edited-g1", "Approved", "False", "ContentChanged"), what="approval refused")
    assert get_or_none(api, *VP, "edited-no-privileged") is None
    api.delete_cluster_custom_object(G, V, "patterns", "edited")


def test_a_forged_phase_is_corrected(api: client.CustomObjectsApi, operator: KopfRunner) -> None:
    create_pattern(api, "forged")
    for forged in ("Approved", "Applied"):
        api.patch_cluster_custom_object_status(G, V, "policyproposals", "forged-g1", {"status": {"phase": forged}})
        eventually(lambda: proposal(api, "forged-g1")["status"]["phase"] == "Pending", what=f"{forged} corrected")
    assert get_or_none(api, *VP, "forged-no-privileged") is None
    api.delete_cluster_custom_object(G, V, "patterns", "forged")


def test_nothing_is_applied_while_the_guard_is_missing(api: client.CustomObjectsApi, operator: KopfRunner,
                                                       cluster: Any) -> None:
    create_pattern(api, "unguarded")
    admission = client.CustomObjectsApi()
    admission.delete_cluster_custom_object(*ADM, "validatingadmissionpolicybindings", GUARD)
    try:
        approve(api, "unguarded-g1")
        missing = eventually(lambda: condition(api, "unguarded-g1", "Applied", "False", "ApprovalGuardMissing"),
                             what="guard missing reported")
        assert "ValidatingAdmissionPolicyBinding" in missing["message"]
        assert proposal(api, "unguarded-g1")["status"]["phase"] == "Approved"
        assert get_or_none(api, *VP, "unguarded-no-privileged") is None
        events = eventually(lambda: client.CoreV1Api().list_event_for_all_namespaces(
            field_selector="involvedObject.name=unguarded-g1,reason=ApprovalGuardMissing").items, what="an Event")
        assert events[0].type == "Warning"
    finally:
        install_guard(client.ApiClient(), ROOT)
    # Restored: the approval takes effect without being given again.
    eventually(lambda: get_or_none(api, *VP, "unguarded-no-privileged"), what="applied once the guard is back")
    eventually(lambda: proposal(api, "unguarded-g1")["status"]["phase"] == "Applied", what="Applied")
    api.delete_cluster_custom_object(G, V, "patterns", "unguarded")


def test_a_foreign_object_with_the_same_name_is_a_conflict(api: client.CustomObjectsApi,
                                                           operator: KopfRunner) -> None:
    theirs = api.create_cluster_custom_object(*VP, {
        "apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy",
        "metadata": {"name": "clash-no-privileged", "labels": {"team": "other"}},
        "spec": {"validationActions": ["Audit"], "matchConstraints": {"resourceRules": [{
            "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}]},
            "validations": [{"expression": "true", "message": "theirs"}]}})
    create_pattern(api, "clash")
    approve(api, "clash-g1")
    conflict = eventually(lambda: condition(api, "clash-g1", "Applied", "False", "Conflict"), what="conflict")
    assert "ValidatingPolicy clash-no-privileged" in conflict["message"]
    assert proposal(api, "clash-g1")["status"]["phase"] == "Failed"
    now = api.get_cluster_custom_object(*VP, "clash-no-privileged")
    assert now["metadata"]["resourceVersion"] == theirs["metadata"]["resourceVersion"], "left untouched"
    assert not now["metadata"].get("ownerReferences")
    api.delete_cluster_custom_object(G, V, "patterns", "clash")
    api.delete_cluster_custom_object(*VP, "clash-no-privileged")


def test_unproven_behaviour_needs_the_override(api: client.CustomObjectsApi, operator: KopfRunner,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The operator runs in this process: without a Kyverno CLI, behaviour cannot be proven.
    monkeypatch.setenv("PATTERNPOLICY_KYVERNO", str(tmp_path / "no-kyverno"))
    create_pattern(api, "unproven")
    status = proposal(api, "unproven-g1")["status"]
    assert status["validation"]["behaviour"]["result"] == "Skipped", status["validation"]
    assert condition(api, "unproven-g1", "Proven", "False", "BehaviourNotProven")
    approve(api, "unproven-g1")
    blocked = eventually(lambda: condition(api, "unproven-g1", "Applied", "False", "BehaviourNotProven"),
                         what="not applied unproven")
    assert "allowUnproven" in blocked["message"]
    assert proposal(api, "unproven-g1")["status"]["phase"] == "Failed"
    assert get_or_none(api, *VP, "unproven-no-privileged") is None
    api.patch_cluster_custom_object(G, V, "policyproposals", "unproven-g1", {"spec": {"allowUnproven": True}})
    eventually(lambda: get_or_none(api, *VP, "unproven-no-privileged"), what="applied with the override")
    eventually(lambda: proposal(api, "unproven-g1")["status"]["phase"] == "Applied", what="Applied")
    assert conditions(api, "unproven-g1")["Proven"]["status"] == "False", "still says it is unproven"
    api.delete_cluster_custom_object(G, V, "patterns", "unproven")


def test_approve_refuses_outdated_invalid_and_superseded(api: client.CustomObjectsApi, operator: KopfRunner,
                                                         cluster: Any) -> None:
    create_pattern(api, "versions")
    api.patch_cluster_custom_object(G, V, "patterns", "versions",
                                    {"spec": {"description": "Deployments must define CPU and memory limits"}})
    eventually(lambda: proposal(api, "versions-g2").get("status", {}).get("phase") == "Pending", timeout=60,
               what="g2 Pending")
    outdated = cli(cluster, "approve", "versions-g1")
    assert outdated.returncode != 0 and "approve versions-g2 instead" in outdated.stderr, outdated
    assert proposal(api, "versions-g1")["spec"]["approved"] is False

    approve(api, "versions-g1")  # bypassing the CLI: the operator refuses too
    eventually(lambda: condition(api, "versions-g1", "Approved", "False", "OutdatedGeneration"), what="refused")
    assert proposal(api, "versions-g1")["status"]["phase"] == "Failed"
    assert get_or_none(api, *VP, "versions-no-privileged") is None

    approved = cli(cluster, "approve", "versions-g2")
    assert approved.returncode == 0, approved.stderr
    eventually(lambda: proposal(api, "versions-g2")["status"]["phase"] == "Applied", what="g2 Applied")
    eventually(lambda: proposal(api, "versions-g1")["status"]["phase"] == "Superseded", what="g1 Superseded")
    superseded = cli(cluster, "approve", "versions-g1")
    assert superseded.returncode != 0 and "Superseded by versions-g2" in superseded.stderr, superseded
    assert condition(api, "versions-g1", "Applied", "False", "Superseded")
    api.delete_cluster_custom_object(G, V, "patterns", "versions")
