"""Impact that stays true: recomputed as objects come, evaluated for ClusterPolicy proposals, and Audit
policies reported as reports, never as denials (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from patternpolicy.adapters.kube import get_json
from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
DESCRIPTION = "Pods must carry the label `team`."


def pattern(name: str, namespace: str, **generation: Any) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
            "spec": {"description": DESCRIPTION,
                     "policyGeneration": {"namespaces": {"include": [namespace]}, **generation}}}


def pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}


def proposal_status(api: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    return dict((get_or_none(api, G, V, "policyproposals", name) or {}).get("status") or {})


def columns(name: str) -> dict[str, Any]:
    """The proposal's row in `kubectl get pp -o wide`: the server-side Table from the printer columns."""
    data = get_json(f"/apis/{G}/{V}/policyproposals?fieldSelector=metadata.name={name}&includeObject=None",
                    accept="application/json;as=Table;v=v1;g=meta.k8s.io")
    names = [c["name"] for c in data["columnDefinitions"]]
    return dict(zip(names, data["rows"][0]["cells"], strict=True))


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"impact-{request.node.name.removeprefix('test_').replace('_', '-')}"[:63].rstrip("-")
    core = client.CoreV1Api()
    core.create_namespace({"metadata": {"name": name}})
    try:
        yield name
    finally:
        core.delete_namespace(name)


@pytest.fixture
def patterns(api: client.CustomObjectsApi) -> Iterator[list[str]]:
    """Patterns the test creates, deleted whatever happens (their proposals and policies follow)."""
    created: list[str] = []
    yield created
    for name in created:
        try:
            api.delete_cluster_custom_object(G, V, "patterns", name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def test_impact_follows_objects_created_after_validation(api: client.CustomObjectsApi, operator: KopfRunner,
                                                         namespace: str, patterns: list[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATTERNPOLICY_IMPACT_INTERVAL", "3")  # read on each check: this test only
    patterns.append("impact-later")
    api.create_cluster_custom_object(G, V, "patterns", pattern("impact-later", namespace))
    first = eventually(lambda: (s := proposal_status(api, "impact-later-g1")).get("phase") and s,
                       timeout=90, what="proposal validated")
    assert first["phase"] == "Pending", first
    assert (first["wouldDeny"], first["validation"]["impact"]["checked"]) == (0, 0), first["validation"]["impact"]

    core = client.CoreV1Api()
    for name in ("api", "worker", "cron"):
        core.create_namespaced_pod(namespace, pod(name, {}))
    core.create_namespaced_pod(namespace, pod("owned", {"team": "payments"}))

    # A recomputation may fall between two creations: the figure must reach every Pod.
    later = eventually(lambda: (s := proposal_status(api, "impact-later-g1")).get("wouldDeny") == 3 and s,
                       timeout=30, what="the impact recomputed with the new Pods")
    impact = later["validation"]["impact"]
    assert (later["wouldDeny"], later["wouldReport"], impact["checked"]) == (3, 0, 4), impact
    assert impact["objects"] == [f"Pod/{namespace}/{n}" for n in ("api", "cron", "worker")]
    assert impact["detail"].startswith("3 of 4 existing object(s) would be denied: ")
    assert impact["checkedAt"] > first["validation"]["impact"]["checkedAt"]
    assert (impact["engine"], impact["failureAction"]) == ("ValidatingPolicy", "Enforce")
    assert later["phase"] == "Pending" and later["conditions"] == first["conditions"]  # impact alone changed
    assert columns("impact-later-g1")["Would-Deny"] == 3
    eventually(lambda: [e for e in core.list_event_for_all_namespaces(
        field_selector="involvedObject.name=impact-later-g1,reason=ImpactChanged").items
        if "-> would deny 3, would report 0: 3 of 4" in e.message], what="an ImpactChanged Event")

    # Applied, the figure keeps counting, now as violators of the policies in force.
    api.patch_cluster_custom_object(G, V, "policyproposals", "impact-later-g1", {"spec": {"approved": True}})
    applied = eventually(lambda: (s := proposal_status(api, "impact-later-g1")).get("validation", {})
                         .get("impact", {}).get("inForce") and s, timeout=30, what="impact of the applied policy")
    assert applied["phase"] == "Applied" and applied["wouldDeny"] == 3
    assert applied["validation"]["impact"]["detail"].startswith(
        "3 of 4 existing object(s) violate the policies in force (their next create or update is denied)")


def test_cluster_policy_proposals_count_existing_violators(api: client.CustomObjectsApi, operator: KopfRunner,
                                                           namespace: str, patterns: list[str]) -> None:
    core = client.CoreV1Api()
    for name in ("legacy", "batch"):
        core.create_namespaced_pod(namespace, pod(name, {}))
    core.create_namespaced_pod(namespace, pod("owned", {"team": "payments"}))
    patterns += ["impact-cp", "impact-cp-audit"]
    api.create_cluster_custom_object(G, V, "patterns", pattern("impact-cp", namespace, engine="ClusterPolicy"))
    api.create_cluster_custom_object(G, V, "patterns", pattern("impact-cp-audit", namespace, engine="ClusterPolicy",
                                                               failureAction="Audit"))

    enforced = eventually(lambda: (s := proposal_status(api, "impact-cp-g1")).get("phase") and s,
                          timeout=90, what="ClusterPolicy proposal validated")
    proposal = api.get_cluster_custom_object(G, V, "policyproposals", "impact-cp-g1")
    assert [p["kind"] for p in proposal["spec"]["policies"]] == ["ClusterPolicy"]
    impact = enforced["validation"]["impact"]
    assert (enforced["phase"], enforced["wouldDeny"], impact["checked"]) == ("Pending", 2, 3), impact
    assert impact["objects"] == [f"Pod/{namespace}/batch", f"Pod/{namespace}/legacy"]
    assert impact["engine"] == "ClusterPolicy" and impact["failureAction"] == "Enforce"

    audit = eventually(lambda: (s := proposal_status(api, "impact-cp-audit-g1")).get("phase") and s,
                       timeout=90, what="Audit ClusterPolicy proposal validated")
    impact = audit["validation"]["impact"]
    assert (audit["wouldDeny"], audit["wouldReport"], impact["failureAction"]) == (0, 2, "Audit"), impact
    assert impact["detail"] == (f"2 of 3 existing object(s) would be reported (Audit: nothing is denied): "
                                f"Pod/{namespace}/batch, Pod/{namespace}/legacy")
    row = columns("impact-cp-audit-g1")
    assert (row["Would-Deny"], row["Would-Report"]) == (0, 2)
