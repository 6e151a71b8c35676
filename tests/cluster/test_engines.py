"""Each engine path the real apiserver can host: ClusterPolicy (Kyverno CRD) and VAP with no Kyverno at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.controlplane import ControlPlane
from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"


def pattern(name: str, **generation: Any) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
            "spec": {"description": "Containers must not run in privileged mode", "policyGeneration": generation}}


def phase(api: client.CustomObjectsApi, name: str) -> str | None:
    return ((get_or_none(api, G, V, "policyproposals", name) or {}).get("status") or {}).get("phase")


def test_cluster_policy_path(api: client.CustomObjectsApi, cluster: ControlPlane) -> None:
    with KopfRunner(["run", "-A", "--standalone", "-m", "patternpolicy.handlers"]) as runner:
        api.create_cluster_custom_object(G, V, "patterns", pattern("cp-priv", engine="ClusterPolicy"))
        eventually(lambda: phase(api, "cp-priv-g1"), what="proposal validated")
        proposal = api.get_cluster_custom_object(G, V, "policyproposals", "cp-priv-g1")
        assert proposal["status"]["phase"] == "Pending", proposal["status"]["validation"]
        assert [p["kind"] for p in proposal["spec"]["policies"]] == ["ClusterPolicy"]
        assert proposal["status"]["validation"]["schema"]["result"] == "Passed"
        api.patch_cluster_custom_object(G, V, "policyproposals", "cp-priv-g1", {"spec": {"approved": True}})
        policy = eventually(lambda: get_or_none(api, "kyverno.io", "v1", "clusterpolicies", "cp-priv-no-privileged"),
                            what="ClusterPolicy applied")
        assert policy["metadata"]["ownerReferences"][0]["name"] == "cp-priv-g1"
        api.delete_cluster_custom_object(G, V, "patterns", "cp-priv")
    assert runner.exception is None, runner.output


def _doctor(kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patternpolicy.cli", "doctor", "--kubeconfig", str(kubeconfig)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_doctor_reports_kyverno_crds_without_a_controller(cluster: ControlPlane) -> None:
    out = _doctor(cluster.kubeconfig)
    assert out.returncode == 0, out.stderr
    assert "Kyverno ValidatingPolicy CRD: v1, v1beta1, v1alpha1" in out.stdout
    assert "engine auto:" in out.stdout and "ValidatingPolicy (policies.kyverno.io/v1)" in out.stdout
    assert "no Kyverno admission controller was found" in out.stdout


def test_vap_path_enforces_without_kyverno(bare_cluster: ControlPlane, bare_api: client.ApiClient,
                                           bare_operator: Path) -> None:
    doctor = _doctor(bare_cluster.kubeconfig)
    assert "engine auto:" in doctor.stdout and "ValidatingAdmissionPolicy" in doctor.stdout, doctor.stdout
    api, core = client.CustomObjectsApi(bare_api), client.CoreV1Api(bare_api)
    api.create_cluster_custom_object(G, V, "patterns", pattern("vap-priv"))
    eventually(lambda: phase(api, "vap-priv-g1"), timeout=60,
               what=f"proposal validated (operator log: {bare_operator})")
    proposal = api.get_cluster_custom_object(G, V, "policyproposals", "vap-priv-g1")
    assert proposal["status"]["phase"] == "Pending", (proposal["status"], bare_operator.read_text()[-3000:])
    assert [p["kind"] for p in proposal["spec"]["policies"]] == ["ValidatingAdmissionPolicy",
                                                                 "ValidatingAdmissionPolicyBinding"]
    validation = proposal["status"]["validation"]
    assert validation["schema"]["result"] == "Passed" and validation["behaviour"]["result"] == "Passed"

    api.patch_cluster_custom_object(G, V, "policyproposals", "vap-priv-g1", {"spec": {"approved": True}})
    eventually(lambda: phase(api, "vap-priv-g1") == "Applied", timeout=60, what="applied")
    core.create_namespace({"metadata": {"name": "team"}})

    def privileged(name: str, on: bool) -> dict[str, Any]:
        return {"metadata": {"name": name}, "spec": {"containers": [
            {"name": "c", "image": "nginx:1.27", "securityContext": {"privileged": on}}]}}

    def denied() -> str | None:
        try:
            core.create_namespaced_pod("team", privileged("root-shell", True))
        except ApiException as exc:
            return exc.body if "Privileged mode is not allowed" in (exc.body or "") else None
        core.delete_namespaced_pod("root-shell", "team")
        return None

    message = eventually(denied, timeout=30, what="the apiserver to deny a privileged Pod")
    assert "vap-priv-no-privileged" in message
    core.create_namespaced_pod("team", privileged("fine", False))  # a compliant Pod is admitted


def test_missing_kyverno_is_a_clear_status_not_a_crash(bare_api: client.ApiClient, bare_operator: Path) -> None:
    api = client.CustomObjectsApi(bare_api)
    api.create_cluster_custom_object(G, V, "patterns", pattern("needs-kyverno", engine="ValidatingPolicy"))

    def condition() -> dict[str, Any] | None:
        status = api.get_cluster_custom_object(G, V, "patterns", "needs-kyverno").get("status") or {}
        return {c["type"]: c for c in status.get("conditions") or []}.get("Analyzed")

    analyzed = eventually(condition, timeout=60, what=f"Analyzed condition (operator log: {bare_operator})")
    assert (analyzed["status"], analyzed["reason"]) == ("Unknown", "EngineUnavailable")
    assert "https://kyverno.io/docs/installation/" in analyzed["message"]
    assert get_or_none(api, G, V, "policyproposals", "needs-kyverno-g1") is None
