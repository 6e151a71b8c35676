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


def test_hand_deleted_policy_is_reported_and_recreated_only_after_approval(
        api: client.CustomObjectsApi, operator: KopfRunner) -> None:
    applied_pattern(api, "drift")
    api.delete_cluster_custom_object(*VP, "drift-no-privileged")
    status = eventually(lambda: (s := proposal(api, "drift-g1").get("status", {})).get("phase") == "Pending" and s,
                        what="drift noticed")
    drifted = {c["type"]: c for c in status["conditions"]}["Drifted"]
    assert drifted["reason"] == "PolicyDeleted" and "drift-no-privileged" in drifted["message"]
    assert api.get_cluster_custom_object(G, V, "patterns", "drift")["status"]["summary"] == "Drifted (drift-g1)"
    assert get_or_none(api, *VP, "drift-no-privileged") is None, "not re-created without a new approval"

    api.patch_cluster_custom_object(G, V, "policyproposals", "drift-g1", {"spec": {"approved": False}})
    eventually(lambda: proposal(api, "drift-g1")["status"].get("approvalVoided") is False, what="void reset")
    api.patch_cluster_custom_object(G, V, "policyproposals", "drift-g1", {"spec": {"approved": True}})
    eventually(lambda: get_or_none(api, *VP, "drift-no-privileged"), what="re-created after approval")
    api.delete_cluster_custom_object(G, V, "patterns", "drift")
