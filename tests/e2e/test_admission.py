"""End to end: an approved proposal becomes a policy that the real Kyverno admission controller enforces."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.controlplane import ControlPlane, control_plane
from tests.support.kube import eventually, get_or_none, install_crds, install_guard
from tests.support.kyverno_admission import kyverno_admission

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
G, V = "patternpolicy.io", "v1alpha1"


@pytest.fixture(scope="module")
def e2e(binaries: Path, kyverno_cli: Path, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[ControlPlane, client.ApiClient, Path]]:
    """Its own control plane: Kyverno's webhooks must not outlive it in other tests' cluster."""
    workdir = tmp_path_factory.mktemp("e2e")
    with control_plane(binaries, workdir, controller_manager=False) as cp:
        cfg = client.Configuration()
        config.load_kube_config(str(cp.kubeconfig), client_configuration=cfg)
        with client.ApiClient(cfg) as api:
            crds = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml"))]
            crds += [d for f in sorted((binaries / "crds").rglob("*.yaml")) for d in yaml.safe_load_all(f.read_text())
                     if d]
            install_crds(client.ApiextensionsV1Api(api), crds)
            install_guard(api, ROOT)
            with kyverno_admission(binaries / "kyverno-admission", cp.kubeconfig, api, workdir / "kyverno.log"):
                log = workdir / "operator.log"
                env = {**os.environ, "KUBECONFIG": str(cp.kubeconfig), "PATTERNPOLICY_KYVERNO": str(kyverno_cli)}
                env.pop("PATTERNPOLICY_ANTHROPIC_API_KEY", None)
                with log.open("wb") as handle:
                    operator = subprocess.Popen([sys.executable, "-m", "patternpolicy.cli", "run", "--standalone"],
                                                stdout=handle, stderr=subprocess.STDOUT, env=env)
                try:
                    yield cp, api, workdir
                finally:
                    operator.terminate()
                    operator.wait(timeout=20)


def pod(name: str, privileged: bool) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"containers": [
        {"name": "c", "image": "nginx:1.27", "securityContext": {"privileged": privileged}}]}}


def test_approved_policy_is_enforced_by_kyverno(e2e: tuple[ControlPlane, client.ApiClient, Path]) -> None:
    _, api_client, workdir = e2e
    api, core = client.CustomObjectsApi(api_client), client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": "team"}})
    core.create_namespaced_pod("team", pod("before", privileged=True))  # nothing is enforced yet

    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "no-priv"},
        "spec": {"description": "Containers must not run in privileged mode"}})
    proposal = eventually(lambda: (p := get_or_none(api, G, V, "policyproposals", "no-priv-g1"))
                          and p.get("status", {}).get("phase") and p, timeout=60,
                          what=f"proposal (operator log {workdir / 'operator.log'})")
    assert proposal["status"]["phase"] == "Pending", proposal["status"]["validation"]
    assert proposal["status"]["validation"]["impact"]["objects"] == ["Pod/team/before"]

    api.patch_cluster_custom_object(G, V, "policyproposals", "no-priv-g1", {"spec": {"approved": True}})
    eventually(lambda: get_or_none(api, "policies.kyverno.io", "v1", "validatingpolicies", "no-priv-no-privileged"),
               what="policy applied")

    def denied() -> str | None:
        try:
            core.create_namespaced_pod("team", pod("root-shell", privileged=True))
        except ApiException as exc:
            return exc.body if "Privileged mode is not allowed" in (exc.body or "") else None
        core.delete_namespaced_pod("root-shell", "team")
        return None

    message = eventually(denied, timeout=90, interval=1,
                         what=f"Kyverno to deny a privileged Pod (kyverno log {workdir / 'kyverno.log'})")
    assert "no-priv-no-privileged" in message
    core.create_namespaced_pod("team", pod("fine", privileged=False))
