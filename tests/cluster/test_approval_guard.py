"""deploy/approval-guard.yaml on the real apiserver: the operator's account cannot approve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, utils
from kubernetes.client.exceptions import ApiException

from tests.support.kube import eventually

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
G, V = "patternpolicy.io", "v1alpha1"
OPERATOR = "system:serviceaccount:patternpolicy-system:patternpolicy"


def proposal(name: str, approved: bool) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "PolicyProposal", "metadata": {"name": name},
            "spec": {"patternRef": {"name": "p", "uid": "u", "generation": 1}, "approved": approved, "policies": []}}


@pytest.fixture(scope="module")
def as_operator(cluster: Any) -> client.CustomObjectsApi:
    admin = client.ApiClient()
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy" / "operator.yaml").read_text()) if d["kind"] != "Deployment"]
    docs += list(yaml.safe_load_all((ROOT / "deploy" / "approval-guard.yaml").read_text()))
    for doc in docs:
        try:
            utils.create_from_dict(admin, doc)
        except utils.FailToCreateError as exc:
            if not all(e.status == 409 for e in exc.api_exceptions):
                raise
    impersonating = client.ApiClient(client.Configuration.get_default_copy())
    impersonating.set_default_header("Impersonate-User", OPERATOR)
    impersonating.set_default_header("Impersonate-Group", "system:serviceaccounts")
    return client.CustomObjectsApi(impersonating)


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
