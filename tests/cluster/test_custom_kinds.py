"""Custom kinds as providers ship them, on the real apiserver.

- Cluster-scoped managed resources shaped like Upjet's provider-azure (tests/data/crds): samples,
  dry-run, the engine proof, impact over cluster-scoped objects, and the apiserver enforcing the
  ValidatingAdmissionPolicy.
- A kind served only in a version that is not its group's preferred one: found and targeted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from patternpolicy.adapters.kube import get_json
from patternpolicy.adapters.kube_discovery import discover_catalog
from patternpolicy.handlers import runtime
from tests.support.controlplane import ControlPlane
from tests.support.kube import eventually, get_or_none, install_crds

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
ROOT = Path(__file__).resolve().parents[2]
PG, RG = "dbforpostgresql.azure.upbound.io", "azure.upbound.io"
MULTI = "multi.patternpolicy.test"
TEXT = "Flexible servers must reference a resource group."


def upjet_crds() -> list[dict[str, Any]]:
    path = ROOT / "tests" / "data" / "crds" / "upjet-azure-postgresql.yaml"
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def multi_version_crds() -> list[dict[str, Any]]:
    """Two kinds of one group: widgets in v1 and v2 (v2 preferred), gadgets only in v1."""
    def crd(kind: str, versions: list[str]) -> dict[str, Any]:
        schema = {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
            "type": "object", "properties": {"owner": {"type": "string"}, "size": {"type": "integer"}}}}}}
        plural = kind.lower() + "s"
        return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{plural}.{MULTI}"},
                "spec": {"group": MULTI, "scope": "Namespaced",
                         "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                         "versions": [{"name": v, "served": True, "storage": v == versions[-1], "schema": schema}
                                      for v in versions]}}
    return [crd("Widget", ["v1", "v2"]), crd("Gadget", ["v1"])]


def pattern(name: str, description: str, **generation: Any) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
            "spec": {"description": description, **({"policyGeneration": generation} if generation else {})}}


def flexible_server(name: str, reference: dict[str, Any] | None) -> dict[str, Any]:
    return {"apiVersion": f"{PG}/v1beta2", "kind": "FlexibleServer", "metadata": {"name": name},
            "spec": {"forProvider": {"location": "westeurope", "skuName": "B_Standard_B1ms", **(reference or {})},
                     "providerConfigRef": {"name": "default"}, "deletionPolicy": "Delete"}}


def proposal_of(api: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    found: dict[str, Any] = eventually(
        lambda: (p := get_or_none(api, G, V, "policyproposals", name)) and (p.get("status") or {}).get("phase") and p,
        timeout=90, what=f"proposal {name} validated")
    return found


def _served(api_client: client.ApiClient | None, group: str, version: str, plural: str) -> bool:
    try:
        client.CustomObjectsApi(api_client).list_cluster_custom_object(group, version, plural)
    except ApiException:
        return False
    return True


@pytest.fixture(scope="module")
def custom_kinds(cluster: ControlPlane, operator: KopfRunner) -> Iterator[None]:
    eventually(runtime.index, what="the operator's start-up to open the capability index")
    ext = client.ApiextensionsV1Api()
    crds = upjet_crds() + multi_version_crds()
    install_crds(ext, crds)
    eventually(lambda: _served(None, PG, "v1beta2", "flexibleservers") and _served(None, MULTI, "v1", "gadgets"),
               what="the custom kinds served")
    yield
    for crd in crds:
        try:
            ext.delete_custom_resource_definition(crd["metadata"]["name"])
        except ApiException as exc:
            if exc.status != 404:
                raise


def test_a_rule_on_cluster_scoped_managed_resources(api: client.CustomObjectsApi, custom_kinds: None,
                                                    operator: KopfRunner) -> None:
    api.create_cluster_custom_object(RG, "v1beta1", "resourcegroups", {
        "apiVersion": f"{RG}/v1beta1", "kind": "ResourceGroup", "metadata": {"name": "team-rg"},
        "spec": {"forProvider": {"location": "westeurope"}}})
    api.create_cluster_custom_object(PG, "v1beta2", "flexibleservers",
                                     flexible_server("placed", {"resourceGroupNameRef": {"name": "team-rg"}}))
    api.create_cluster_custom_object(PG, "v1beta2", "flexibleservers", flexible_server("orphan", None))

    api.create_cluster_custom_object(G, V, "patterns", pattern("upbound-pg-rg", TEXT))
    proposal = proposal_of(api, "upbound-pg-rg-g1")
    status = proposal["status"]
    assert status["phase"] == "Pending", status
    validation = status["validation"]
    assert validation["schema"]["result"] == "Passed", validation  # server-side dry-run
    assert validation["behaviour"]["result"] == "Passed", validation  # kyverno test, with the CRD
    (policy,) = proposal["spec"]["policies"]
    (rules,) = policy["spec"]["matchConstraints"]["resourceRules"]
    assert (rules["apiGroups"], rules["apiVersions"], rules["resources"]) == ([PG], ["v1beta2"], ["flexibleservers"])
    assert all("namespace" not in t["resource"]["metadata"] for t in proposal["spec"]["tests"])
    # Impact lists the cluster-scoped objects (the operator here may list everything but Secrets).
    impact = validation["impact"]
    assert (impact["wouldDeny"], impact["checked"], impact["objects"]) == (1, 2, ["FlexibleServer/orphan"]), impact
    api.delete_cluster_custom_object(G, V, "patterns", "upbound-pg-rg")


def test_a_kind_served_only_in_a_non_preferred_version_is_found_and_targeted(
        api: client.CustomObjectsApi, custom_kinds: None, operator: KopfRunner) -> None:
    group = next(g for g in get_json("/apis")["groups"] if g["name"] == MULTI)
    assert group["preferredVersion"]["version"] == "v2"  # Gadget is not served there
    kinds = {k.kind: k for k in discover_catalog().kinds if k.group == MULTI}
    assert (kinds["Widget"].version, kinds["Gadget"].version) == ("v2", "v1")

    api.create_cluster_custom_object(G, V, "patterns", pattern("gadget-owner", "Gadgets must set spec.owner."))
    proposal = proposal_of(api, "gadget-owner-g1")
    assert proposal["status"]["phase"] == "Pending", proposal["status"]
    (policy,) = proposal["spec"]["policies"]
    (rules,) = policy["spec"]["matchConstraints"]["resourceRules"]
    assert (rules["apiGroups"], rules["apiVersions"], rules["resources"]) == ([MULTI], ["v1"], ["gadgets"])
    assert proposal["status"]["validation"]["behaviour"]["result"] == "Passed", proposal["status"]["validation"]
    api.delete_cluster_custom_object(G, V, "patterns", "gadget-owner")


def test_the_apiserver_enforces_a_rule_on_cluster_scoped_kinds(bare_cluster: ControlPlane,
                                                               bare_api: client.ApiClient,
                                                               bare_operator: Path) -> None:
    """No Kyverno: a ValidatingAdmissionPolicy, which the apiserver applies to cluster-scoped objects."""
    install_crds(client.ApiextensionsV1Api(bare_api), upjet_crds())
    api = client.CustomObjectsApi(bare_api)
    eventually(lambda: _served(bare_api, PG, "v1beta2", "flexibleservers"), what="FlexibleServer served")
    api.create_cluster_custom_object(G, V, "patterns", pattern("bare-upbound-pg-rg", TEXT))
    name = "bare-upbound-pg-rg-g1"
    proposal = proposal_of(api, name)
    assert proposal["status"]["phase"] == "Pending", (proposal["status"], bare_operator.read_text()[-3000:])
    assert [p["kind"] for p in proposal["spec"]["policies"]] == ["ValidatingAdmissionPolicy",
                                                                 "ValidatingAdmissionPolicyBinding"]
    api.patch_cluster_custom_object(G, V, "policyproposals", name, {"spec": {"approved": True}})
    eventually(lambda: api.get_cluster_custom_object(G, V, "policyproposals", name)["status"]["phase"] == "Applied",
               timeout=60, what="applied")

    def denied() -> str | None:
        try:
            api.create_cluster_custom_object(PG, "v1beta2", "flexibleservers", flexible_server("orphan", None))
        except ApiException as exc:
            return exc.body if exc.status in (400, 403, 422) and "ResourceGroup" in (exc.body or "") else None
        api.delete_cluster_custom_object(PG, "v1beta2", "flexibleservers", "orphan")
        return None

    message = eventually(denied, timeout=30, what="the apiserver to deny a server without a resource group")
    assert "must reference a ResourceGroup" in message
    # Compliant: admitted, in the preferred version and in the older one (the policy matches equivalent versions).
    api.create_cluster_custom_object(PG, "v1beta2", "flexibleservers",
                                     flexible_server("by-name", {"resourceGroupName": "team-rg"}))
    older = flexible_server("by-selector", {"resourceGroupNameSelector": {"matchLabels": {"team": "a"}}})
    api.create_cluster_custom_object(PG, "v1beta1", "flexibleservers", {**older, "apiVersion": f"{PG}/v1beta1"})
    with pytest.raises(ApiException):
        orphan = flexible_server("old-orphan", None)
        api.create_cluster_custom_object(PG, "v1beta1", "flexibleservers", {**orphan, "apiVersion": f"{PG}/v1beta1"})
