"""onDelete: Orphan keeps applied policies; a policy deleted by hand is noticed and needs re-approval."""

from __future__ import annotations

from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client

from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
VP = ("policies.kyverno.io", "v1", "validatingpolicies")



def proposal(api: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    return get_or_none(api, G, V, "policyproposals", name) or {}


def applied_pattern(api: client.CustomObjectsApi, name: str, **generation: Any) -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
        "spec": {"description": "Containers must not run in privileged mode", "policyGeneration": generation}})
    eventually(lambda: proposal(api, f"{name}-g1").get("status", {}).get("phase") == "Pending", what="Pending")
    api.patch_cluster_custom_object(G, V, "policyproposals", f"{name}-g1", {"spec": {"approved": True}})
    eventually(lambda: get_or_none(api, *VP, f"{name}-no-privileged"), what="policy applied")


def test_orphan_keeps_policies_after_the_pattern_is_deleted(api: client.CustomObjectsApi,
                                                            operator: KopfRunner) -> None:
    applied_pattern(api, "keep-me", onDelete="Orphan")
    pattern = api.get_cluster_custom_object(G, V, "patterns", "keep-me")
    assert pattern["metadata"]["finalizers"], "an Orphan pattern holds a finalizer until ownership is stripped"
    api.delete_cluster_custom_object(G, V, "patterns", "keep-me")
    eventually(lambda: get_or_none(api, G, V, "patterns", "keep-me") is None, what="pattern gone")
    eventually(lambda: not proposal(api, "keep-me-g1"), timeout=60, what="proposal garbage-collected")
    policy = get_or_none(api, *VP, "keep-me-no-privileged")
    assert policy is not None, "the applied policy must survive"
    assert not policy["metadata"].get("ownerReferences")
    assert policy["metadata"]["labels"]["patternpolicy.io/orphaned"] == "true"
    api.delete_cluster_custom_object(*VP, "keep-me-no-privileged")


def test_orphan_finalizer_is_released_even_without_applied_policies(api: client.CustomObjectsApi,
                                                                    operator: KopfRunner) -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "never-applied"},
        "spec": {"description": "Teams should prefer managed databases", "policyGeneration": {"onDelete": "Orphan"}}})
    eventually(lambda: (get_or_none(api, G, V, "patterns", "never-applied") or {}).get("metadata", {})
               .get("finalizers"), what="finalizer added")
    api.delete_cluster_custom_object(G, V, "patterns", "never-applied")
    eventually(lambda: get_or_none(api, G, V, "patterns", "never-applied") is None, what="pattern deleted")


def phases_seen(api: client.CustomObjectsApi, name: str, seen: set[str]) -> dict[str, Any]:
    status = proposal(api, name).get("status", {})
    seen.add(status.get("phase"))
    return status


def test_content_drift_is_restored_and_reported(api: client.CustomObjectsApi, operator: KopfRunner) -> None:
    applied_pattern(api, "drift")
    eventually(lambda: proposal(api, "drift-g1").get("status", {}).get("phase") == "Applied", what="Applied")
    approved = api.get_cluster_custom_object(*VP, "drift-no-privileged")["spec"]
    seen: set[str] = set()

    # A hand edit that turns the rule off, and an addition that would exempt everything.
    api.patch_cluster_custom_object(*VP, "drift-no-privileged", {"spec": {
        "validations": [{"expression": "true", "message": "disabled"}],
        "matchConditions": [{"name": "never", "expression": "false"}]}})
    eventually(lambda: (phases_seen(api, "drift-g1", seen) and
                        api.get_cluster_custom_object(*VP, "drift-no-privileged")["spec"] == approved),
               what="approved content restored")
    def cleared() -> dict[str, Any] | None:
        found = {c["type"]: c for c in phases_seen(api, "drift-g1", seen)["conditions"]}.get("Drifted") or {}
        return found if found.get("status") == "False" and "restored" in found.get("message", "") else None

    drifted = eventually(cleared, what="Drifted cleared after repair")
    assert drifted["status"] == "False" and "drift-no-privileged" in drifted["message"]
    events = eventually(lambda: client.CoreV1Api().list_event_for_all_namespaces(
        field_selector="involvedObject.name=drift-g1,reason=PolicyDrift").items, what="a drift Event")
    assert events[0].type == "Warning"

    # Deleted by hand: re-created from the approved content, no new approval needed.
    api.delete_cluster_custom_object(*VP, "drift-no-privileged")
    eventually(lambda: (phases_seen(api, "drift-g1", seen) and get_or_none(api, *VP, "drift-no-privileged")),
               what="deleted policy re-created")
    assert api.get_cluster_custom_object(*VP, "drift-no-privileged")["spec"] == approved
    assert seen == {"Applied"}, f"drift must never show as another phase: {seen}"
    eventually(lambda: api.get_cluster_custom_object(G, V, "patterns", "drift")["status"]["summary"]
               == "Applied (drift-g1)", what="pattern summary back to Applied")
    api.delete_cluster_custom_object(G, V, "patterns", "drift")


def test_deleted_proposal_leaves_the_pattern_status_and_is_proposed_again(api: client.CustomObjectsApi,
                                                                         operator: KopfRunner) -> None:
    applied_pattern(api, "again")
    eventually(lambda: api.get_cluster_custom_object(G, V, "patterns", "again")["status"].get("appliedPolicies"),
               what="pattern lists the applied policy")
    first = proposal(api, "again-g1")["metadata"]["uid"]
    api.delete_cluster_custom_object(G, V, "policyproposals", "again-g1")
    # The garbage collector removes the policy with its proposal; the pattern stops claiming it.
    eventually(lambda: get_or_none(api, *VP, "again-no-privileged") is None, timeout=60, what="policy collected")
    eventually(lambda: not api.get_cluster_custom_object(G, V, "patterns", "again")["status"].get("appliedPolicies"),
               what="pattern status without the deleted proposal's policies")
    again = eventually(lambda: (p := proposal(api, "again-g1")) and p["metadata"]["uid"] != first
                       and p.get("status", {}).get("phase") == "Pending" and p, timeout=60, what="proposed again")
    assert again["spec"]["approved"] is False
    status = eventually(lambda: (s := api.get_cluster_custom_object(G, V, "patterns", "again")["status"])
                        ["summary"] == "Proposed (again-g1)" and s, what="pattern summary follows")
    assert status["proposals"] == ["again-g1"]
    api.delete_cluster_custom_object(G, V, "patterns", "again")
