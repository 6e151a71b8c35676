"""deploy/ as a kustomize base, built by the real kustomize and applied to the real API server."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube import eventually
from tests.support.manifests import allowed, apply, documents, impersonating, run

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
G, V = "patternpolicy.io", "v1alpha1"


@pytest.fixture(scope="module")
def kustomize(binaries: Path, cluster: Any) -> Path:
    return binaries / "kustomize"


def test_base_is_accepted_by_the_api_server(kustomize: Path) -> None:
    docs = documents(run(kustomize, "build", ROOT / "deploy"))
    kinds = {d["kind"] for d in docs}
    assert {"CustomResourceDefinition", "Namespace", "ServiceAccount", "Deployment",
            "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= kinds
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "CustomResourceDefinition"} == \
        {p.name.removesuffix(".yaml") for p in (ROOT / "crds").glob("*.yaml")}
    for doc in docs:
        if doc["kind"] in {"ServiceAccount", "Deployment"}:
            assert doc["metadata"]["namespace"] == "patternpolicy-system"
    apply(client.ApiClient(), docs, dry_run=True)


def test_a_namespace_override_reaches_every_reference(kustomize: Path, tmp_path: Path,
                                                      api: client.CustomObjectsApi) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    base = os.path.relpath(ROOT / "deploy", overlay)  # kustomize refuses absolute paths
    (overlay / "kustomization.yaml").write_text(f"resources: [{base}]\nnamespace: policy-ops\nnamePrefix: team-\n")
    rendered = run(kustomize, "build", overlay)
    assert "patternpolicy-system" not in rendered
    docs = documents(rendered)
    (guard,) = [d for d in docs if d["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert guard["spec"]["paramRef"] == {"name": "team-patternpolicy", "namespace": "policy-ops",
                                         "parameterNotFoundAction": "Deny"}
    assert guard["spec"]["policyName"] == "team-patternpolicy-operator-cannot-approve"
    for binding in (d for d in docs if d["kind"] == "ClusterRoleBinding"):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "team-patternpolicy",
                                        "namespace": "policy-ops"}]
    # No Deployment: other modules count the cluster's Deployments (impact); it would never run here anyway.
    apply(client.ApiClient(), [d for d in docs if d["kind"] != "Deployment"])

    operator = "system:serviceaccount:policy-ops:team-patternpolicy"
    assert allowed(operator, "list", "pods") and not allowed(operator, "list", "secrets")
    as_operator = client.CustomObjectsApi(impersonating(operator))
    body = {"apiVersion": f"{G}/{V}", "kind": "PolicyProposal", "metadata": {"name": "overlay-self-approved"},
            "spec": {"patternRef": {"name": "p", "uid": "u", "generation": 1}, "approved": True, "policies": []}}

    def denial() -> str | None:
        try:
            as_operator.create_cluster_custom_object(G, V, "policyproposals", body)
        except ApiException as exc:
            message = str(json.loads(exc.body)["message"])
            return message if "must never approve" in message else None
        api.delete_cluster_custom_object(G, V, "policyproposals", "overlay-self-approved")
        return None

    assert "team-patternpolicy-operator-cannot-approve" in eventually(
        denial, what="the overlay's guard to deny its operator an approval")
