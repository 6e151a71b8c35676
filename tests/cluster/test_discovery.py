"""The PRD's own example on the real apiserver: kinds found by meaning, fields checked against the cluster.

CRDs that mimic Azure Service Operator's PostgreSQL flexible server, its databases and resource
groups (examples/crds/azure-postgresql.yaml) are installed while the operator runs, so the
capability index learns them from CRD events, not from a restart.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.adapters.kyverno_cli import run_suite
from patternpolicy.handlers import runtime
from tests.support.controlplane import ControlPlane
from tests.support.kube import eventually, get_or_none, install_crds

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
ROOT = Path(__file__).resolve().parents[2]
AZURE_CRDS = ROOT / "examples" / "crds" / "azure-postgresql.yaml"
PRD_TEXT = "Azure PostgreSQL requires ResourceGroup for infrastructure organization."
PG = "dbforpostgresql.azure.com"


def azure_crds() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(AZURE_CRDS.read_text()) if d]


def pattern(name: str, description: str) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
            "spec": {"description": description}}


def served(group: str, version: str, plural: str) -> bool:
    try:
        return any(r["name"] == plural for r in get_json(f"/apis/{group}/{version}")["resources"])
    except KubeError:
        return False


def analysed(api: client.CustomObjectsApi, name: str) -> dict[str, Any] | None:
    status = api.get_cluster_custom_object(G, V, "patterns", name).get("status") or {}
    return status if (status.get("analysis") or {}).get("analyzer") else None


@pytest.fixture(scope="module")
def azure(cluster: ControlPlane, operator: KopfRunner) -> Iterator[None]:
    """The Azure-like CRDs, installed after the operator started."""
    eventually(runtime.index, what="the operator's start-up to open the capability index")
    ext = client.ApiextensionsV1Api()
    install_crds(ext, azure_crds())
    wanted = [("resources.azure.com", "v1api20200601", "resourcegroups"), (PG, "v1api20221201", "flexibleservers"),
              (PG, "v1api20221201", "flexibleserversdatabases")]
    eventually(lambda: all(served(*gvr) for gvr in wanted), what="the Azure-like kinds served")
    yield
    for crd in azure_crds():
        try:
            ext.delete_custom_resource_definition(crd["metadata"]["name"])
        except ApiException as exc:
            if exc.status != 404:
                raise


def test_prd_example_resolves_the_server_kind_and_its_reference_field(
        api: client.CustomObjectsApi, azure: None, operator: KopfRunner) -> None:
    api.create_cluster_custom_object(G, V, "patterns", pattern("pg-in-rg", PRD_TEXT))
    proposal = eventually(lambda: (p := get_or_none(api, G, V, "policyproposals", "pg-in-rg-g1"))
                          and p.get("status", {}).get("phase") and p,
                          timeout=90, what=f"proposal (pattern status: {analysed(api, 'pg-in-rg')})")
    assert proposal["status"]["phase"] == "Pending", proposal["status"]
    validation = proposal["status"]["validation"]
    assert validation["schema"]["result"] == "Passed" and validation["behaviour"]["result"] == "Passed", validation
    (policy,) = proposal["spec"]["policies"]
    (rules,) = policy["spec"]["matchConstraints"]["resourceRules"]
    # The server kind only: not its namesake in MySQL, not its databases, not the resource group.
    assert (rules["apiGroups"], rules["resources"]) == ([PG], ["flexibleservers"])
    (check,) = policy["spec"]["validations"]
    assert "object.spec.owner" in check["expression"] and "ResourceGroup" in check["message"]

    status = analysed(api, "pg-in-rg")
    assert status is not None
    found = status["analysis"]["kindsFound"]
    assert any(f.startswith(f"FlexibleServer.{PG}: similar in meaning") for f in found), found
    assert any(f.startswith("ResourceGroup.resources.azure.com: named in the text") for f in found), found
    assert "notes" not in status["analysis"]  # the model was there: no lexical-only note


def test_a_field_the_kind_lacks_is_refused_with_the_reason(api: client.CustomObjectsApi, azure: None,
                                                           operator: KopfRunner) -> None:
    api.create_cluster_custom_object(G, V, "patterns", pattern(
        "pg-retention", "Azure PostgreSQL servers must set spec.backupRetentionDays."))
    status = eventually(lambda: analysed(api, "pg-retention"), timeout=90, what="pattern analysed")
    analyzed = {c["type"]: c for c in status["conditions"]}["Analyzed"]
    assert (analyzed["status"], analyzed["reason"]) == ("False", "NotEnforceable")
    # Checked against the schema the cluster publishes for the CRD (/openapi/v3).
    assert "FlexibleServer: object.spec.backupRetentionDays: no such field" in analyzed["message"]
    assert "exists at object.spec.backup.backupRetentionDays" in analyzed["message"]
    assert get_or_none(api, G, V, "policyproposals", "pg-retention-g1") is None


def test_the_apiserver_enforces_the_prd_example(bare_cluster: ControlPlane, bare_api: client.ApiClient,
                                                bare_operator: Path, tmp_path: Path) -> None:
    """No Kyverno: the proposal is a ValidatingAdmissionPolicy, and once approved the apiserver denies
    a PostgreSQL server that names no resource group. CRDs were there before the operator started."""
    install_crds(client.ApiextensionsV1Api(bare_api), azure_crds())
    api = client.CustomObjectsApi(bare_api)
    eventually(lambda: _served_on(bare_api), what="FlexibleServer served on the bare cluster")
    api.create_cluster_custom_object(G, V, "patterns", pattern("bare-pg-in-rg", PRD_TEXT))
    name = "bare-pg-in-rg-g1"
    eventually(lambda: ((get_or_none(api, G, V, "policyproposals", name) or {}).get("status") or {}).get("phase"),
               timeout=90, what=f"proposal validated (operator log: {bare_operator})")
    proposal = api.get_cluster_custom_object(G, V, "policyproposals", name)
    assert proposal["status"]["phase"] == "Pending", (proposal["status"], bare_operator.read_text()[-3000:])
    api.patch_cluster_custom_object(G, V, "policyproposals", name, {"spec": {"approved": True}})
    eventually(lambda: api.get_cluster_custom_object(G, V, "policyproposals", name)["status"]["phase"] == "Applied",
               timeout=60, what="applied")

    def server(server_name: str, owner: dict[str, str] | None) -> dict[str, Any]:
        spec: dict[str, Any] = {"location": "westeurope", **({"owner": owner} if owner else {})}
        return {"apiVersion": f"{PG}/v1api20221201", "kind": "FlexibleServer",
                "metadata": {"name": server_name}, "spec": spec}

    def denied() -> str | None:
        try:
            api.create_namespaced_custom_object(PG, "v1api20221201", "default", "flexibleservers",
                                                server("orphan", None))
        except ApiException as exc:
            return exc.body if exc.status in (400, 403, 422) and "ResourceGroup" in (exc.body or "") else None
        api.delete_namespaced_custom_object(PG, "v1api20221201", "default", "flexibleservers", "orphan")
        return None

    message = eventually(denied, timeout=30, what="the apiserver to deny a server without a resource group")
    assert "must reference a ResourceGroup" in message
    api.create_namespaced_custom_object(PG, "v1api20221201", "default", "flexibleservers",
                                        server("placed", {"name": "team-rg"}))  # compliant: admitted

    # What the cluster applied, as GitOps files: the suite carries the CRD, so `kyverno test` can map the
    # custom kind for the ValidatingAdmissionPolicy outside the cluster.
    out = tmp_path / "gitops"
    exported = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "export", "-o", str(out),
                               "--kubeconfig", str(bare_cluster.kubeconfig)],
                              capture_output=True, text=True, timeout=120, check=False)
    assert exported.returncode == 0, exported.stderr
    suite = out / "tests" / "bare-pg-in-rg"
    assert (suite / f"crd-flexibleservers.{PG}.yaml").exists()
    run = run_suite(suite)
    assert run.passed, run.output


def _served_on(api_client: client.ApiClient) -> bool:
    try:
        client.CustomObjectsApi(api_client).list_namespaced_custom_object(PG, "v1api20221201", "default",
                                                                          "flexibleservers")
    except ApiException:
        return False
    return True


def test_a_deleted_crd_leaves_the_index_without_a_restart(azure: None, operator: KopfRunner) -> None:
    # Last in the module: it removes a kind the other tests use. The test apiserver delivers CRD watch
    # events up to ~30 s late after CRDs were created (watch cache re-initialising), hence the timeout.
    index = eventually(runtime.index, what="the operator's start-up to open the capability index")
    assert index.mode == "hybrid", index.note
    entry = index.get(PG, "FlexibleServersDatabase")
    assert entry is not None and "Microsoft.DBforPostgreSQL" in entry.description  # the CRD's own description
    client.ApiextensionsV1Api().delete_custom_resource_definition(f"flexibleserversdatabases.{PG}")
    eventually(lambda: index.get(PG, "FlexibleServersDatabase") is None, timeout=90,
               what="the deleted CRD's kind to leave the index")
