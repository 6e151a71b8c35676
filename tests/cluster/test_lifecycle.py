"""Pattern → proposal → approval → policy → deletion, on a real apiserver with the real GC."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from patternpolicy.adapters.kube import KubeError, get_json
from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster

G, V = "patternpolicy.io", "v1alpha1"
VP = ("policies.kyverno.io", "v1", "validatingpolicies")



def pattern(name: str, description: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
            "spec": {"description": description, **spec}}


def pattern_status(api: client.CustomObjectsApi, name: str) -> Any:
    return (get_or_none(api, G, V, "patterns", name) or {}).get("status")


def proposal_table(cluster: Any) -> dict[str, list[Any]]:
    """What `kubectl get pp` prints: the server-side Table built from our printer columns."""
    data = get_json(f"/apis/{G}/{V}/policyproposals", accept="application/json;as=Table;v=v1;g=meta.k8s.io")
    columns = [c["name"] for c in data["columnDefinitions"]]
    return {row["object"]["metadata"]["name"]: dict(zip(columns, row["cells"], strict=True))
            for row in data["rows"]}


def test_pattern_to_applied_policy_and_garbage_collected(api: client.CustomObjectsApi, operator: KopfRunner,
                                                         cluster: Any) -> None:
    created = api.create_cluster_custom_object(G, V, "patterns", pattern(
        "require-limits", "Deployments must define CPU and memory limits", suggestedResources=["Deployment"]))

    proposal = eventually(lambda: (p := get_or_none(api, G, V, "policyproposals", "require-limits-g1"))
                          and p.get("status", {}).get("phase") and p,
                          what="proposal validated")
    assert proposal["status"]["phase"] == "Pending", proposal["status"]
    owner = proposal["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == \
        ("Pattern", "require-limits", created["metadata"]["uid"], True)
    assert proposal["spec"]["approved"] is False
    assert proposal["spec"]["patternRef"] == {"name": "require-limits", "uid": created["metadata"]["uid"],
                                              "generation": 1}
    assert [p["metadata"]["name"] for p in proposal["spec"]["policies"]] == ["require-limits-require-limits"]
    validation = proposal["status"]["validation"]
    assert validation["schema"]["result"] == "Passed", validation
    assert validation["behaviour"]["result"] == "Passed", validation
    # Issue 12: its Pod samples were counted as proof though the policy never sees Pods (`kyverno test` marked
    # them Excluded). Only Deployments are sampled now, and every sample counted is one the engine judged.
    samples = proposal["spec"]["tests"]
    assert {t["resource"]["kind"] for t in samples} == {"Deployment"}, samples
    assert validation["behaviour"]["detail"] == (f"kyverno test: {len(samples)} of {len(samples)} sample(s) judged "
                                                 "by the engine, each got its expected verdict"), validation
    proven = {c["type"]: c for c in proposal["status"]["conditions"]}["Proven"]
    assert (proven["status"], proven["message"]) == ("True", validation["behaviour"]["detail"])
    assert proposal["status"]["digest"].startswith("sha256:")
    # Nothing takes effect before a person approves.
    assert get_or_none(api, *VP, "require-limits-require-limits") is None

    row = proposal_table(cluster)["require-limits-g1"]
    assert (row["Pattern"], row["Phase"], row["Approved"]) == ("require-limits", "Pending", False)

    status = api.get_cluster_custom_object(G, V, "patterns", "require-limits")["status"]
    analyzed = {c["type"]: c for c in status["conditions"]}["Analyzed"]
    assert (analyzed["status"], analyzed["observedGeneration"]) == ("True", 1)
    assert status["proposals"] == ["require-limits-g1"]

    api.patch_cluster_custom_object(G, V, "policyproposals", "require-limits-g1", {"spec": {"approved": True}})
    policy = eventually(lambda: get_or_none(api, *VP, "require-limits-require-limits"), what="policy applied")
    owners = policy["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"], o["uid"]) for o in owners] == \
        [("PolicyProposal", "require-limits-g1", proposal["metadata"]["uid"])]
    assert policy["metadata"]["labels"]["patternpolicy.io/pattern"] == "require-limits"
    assert policy["spec"]["validationActions"] == ["Deny"]
    eventually(lambda: get_or_none(api, G, V, "policyproposals", "require-limits-g1")["status"]["phase"]
               == "Applied", what="proposal Applied")

    api.delete_cluster_custom_object(G, V, "patterns", "require-limits")
    eventually(lambda: get_or_none(api, G, V, "policyproposals", "require-limits-g1") is None, timeout=60,
               what="proposal garbage-collected")
    eventually(lambda: get_or_none(api, *VP, "require-limits-require-limits") is None, timeout=60,
               what="policy garbage-collected")


def test_schema_rejects_pattern_without_a_usable_description(api: client.CustomObjectsApi) -> None:
    with pytest.raises(ApiException) as missing:
        api.create_cluster_custom_object(G, V, "patterns", {
            "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "no-description"}, "spec": {}})
    assert missing.value.status == 422
    assert "spec.description: Required value" in json.loads(missing.value.body)["message"]

    with pytest.raises(ApiException) as bad_enum:
        api.create_cluster_custom_object(G, V, "patterns", pattern(
            "bad-action", "Containers must not run privileged", policyGeneration={"failureAction": "Warn"}))
    assert "spec.policyGeneration.failureAction" in json.loads(bad_enum.value.body)["message"]


def test_unenforceable_pattern_gets_a_reason_and_no_proposal(api: client.CustomObjectsApi,
                                                             operator: KopfRunner) -> None:
    api.create_cluster_custom_object(G, V, "patterns", pattern(
        "prefer-managed-db", "Teams should prefer managed databases over self-hosted ones"))
    # Waits for the analysis (Ready=False/Analysing is written as it starts).
    status = eventually(lambda: api.get_cluster_custom_object(G, V, "patterns", "prefer-managed-db")
                        .get("status", {}).get("analysis") and
                        api.get_cluster_custom_object(G, V, "patterns", "prefer-managed-db")["status"],
                        what="pattern status")
    analyzed = {c["type"]: c for c in status["conditions"]}["Analyzed"]
    assert (analyzed["status"], analyzed["reason"]) == ("False", "NotEnforceable")
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "NothingToEnforce")
    assert "not confident" in analyzed["message"]
    assert status["analysis"]["enforceable"] == "False"
    assert get_or_none(api, G, V, "policyproposals", "prefer-managed-db-g1") is None


def test_a_crd_added_while_running_is_governable_without_restart(api: client.CustomObjectsApi,
                                                                 operator: KopfRunner) -> None:
    from kubernetes import client as k8s

    k8s.ApiextensionsV1Api().create_custom_resource_definition({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {"type": "object", "properties": {
                         "size": {"type": "integer"}}}}}}}]}})
    def served() -> bool:
        try:
            return any(r["name"] == "widgets" for r in get_json("/apis/example.com/v1")["resources"])
        except KubeError:
            return False

    eventually(served, what="Widget served")
    api.create_cluster_custom_object(G, V, "patterns", pattern(
        "widget-owner", "Widgets must carry the label `team`"))
    try:
        proposal = eventually(lambda: (p := get_or_none(api, G, V, "policyproposals", "widget-owner-g1"))
                              and p.get("status", {}).get("phase") and p, what="proposal for the new kind")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; pattern status: {pattern_status(api, 'widget-owner')}") from None
    assert proposal["status"]["phase"] == "Pending", proposal["status"]
    (policy,) = proposal["spec"]["policies"]
    assert policy["spec"]["matchConstraints"]["resourceRules"][0]["apiGroups"] == ["example.com"]
    api.delete_cluster_custom_object(G, V, "patterns", "widget-owner")
