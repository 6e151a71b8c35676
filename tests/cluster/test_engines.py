"""Each engine path the real apiserver can host: ClusterPolicy (Kyverno CRD) and VAP with no Kyverno at all."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client, config
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


@pytest.fixture
def bare_api(bare_cluster: ControlPlane) -> Iterator[client.ApiClient]:
    cfg = client.Configuration()
    config.load_kube_config(str(bare_cluster.kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api_client:
        yield api_client


@pytest.fixture
def bare_operator(bare_cluster: ControlPlane, kyverno_cli: Path, tmp_path: Path) -> Iterator[Path]:
    """The real CLI in its own process: `patternpolicy run` against the Kyverno-less cluster."""
    log = tmp_path / "operator.log"
    env = {**os.environ, "KUBECONFIG": str(bare_cluster.kubeconfig), "PATTERNPOLICY_KYVERNO": str(kyverno_cli)}
    env.pop("PATTERNPOLICY_ANTHROPIC_API_KEY", None)
    with log.open("wb") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "patternpolicy.cli", "run", "--standalone"],
                                stdout=handle, stderr=subprocess.STDOUT, env=env)
    yield log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


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
