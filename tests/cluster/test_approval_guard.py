"""deploy/ (built by kustomize, as `kubectl apply -k deploy/`) on the real apiserver: the operator's account
cannot approve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube import eventually
from tests.support.manifests import apply, documents, impersonating, run

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
G, V = "patternpolicy.io", "v1alpha1"
OPERATOR = "system:serviceaccount:patternpolicy-system:patternpolicy"


def proposal(name: str, approved: bool) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "PolicyProposal", "metadata": {"name": name},
            "spec": {"patternRef": {"name": "p", "uid": "u", "generation": 1}, "approved": approved, "policies": []}}


@pytest.fixture(scope="module")
def as_operator(cluster: Any, binaries: Path) -> client.CustomObjectsApi:
    # No Deployment: other modules count the cluster's Deployments (impact); it would never run here anyway.
    docs = documents(run(binaries / "kustomize", "build", ROOT / "deploy"))
    apply(client.ApiClient(), [d for d in docs if d["kind"] != "Deployment"])
    return client.CustomObjectsApi(impersonating(OPERATOR))


def denial(call: Any) -> str | None:
    try:
        call()
    except ApiException as exc:
        message = json.loads(exc.body)["message"]
        return message if "must never approve" in message else None
    return None


def test_operator_account_cannot_approve(api: client.CustomObjectsApi, as_operator: client.CustomObjectsApi) -> None:
    message = eventually(lambda: denial(lambda: as_operator.create_cluster_custom_object(
        G, V, "policyproposals", proposal("self-approved", True))), what="the guard to deny a self-approval")
    assert "a person sets spec.approved" in message

    as_operator.create_cluster_custom_object(G, V, "policyproposals", proposal("guarded", False))
    assert denial(lambda: as_operator.patch_cluster_custom_object(
        G, V, "policyproposals", "guarded", {"spec": {"approved": True}}))
    assert as_operator.get_cluster_custom_object(G, V, "policyproposals", "guarded")["spec"]["approved"] is False

    # A person (here: the cluster admin) approves; the operator may then keep working with it.
    api.patch_cluster_custom_object(G, V, "policyproposals", "guarded", {"spec": {"approved": True}})
    as_operator.patch_cluster_custom_object(G, V, "policyproposals", "guarded",
                                            {"metadata": {"labels": {"seen-by": "operator"}}})
    assert api.get_cluster_custom_object(G, V, "policyproposals", "guarded")["spec"]["approved"] is True
    api.delete_cluster_custom_object(G, V, "policyproposals", "guarded")
