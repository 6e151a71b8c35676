"""Editing a pattern proposes a new version with a diff; the applied policy changes only on approval."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client

from patternpolicy.adapters.kyverno_cli import run_suite
from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
VP = ("policies.kyverno.io", "v1", "validatingpolicies")



def phase(api: client.CustomObjectsApi, name: str) -> str | None:
    found = get_or_none(api, G, V, "policyproposals", name)
    return (found or {}).get("status", {}).get("phase")


def test_new_generation_is_proposed_with_a_diff_and_replaces_on_approval(
        api: client.CustomObjectsApi, operator: KopfRunner, cluster: Any, tmp_path: Path) -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "limits"},
        "spec": {"description": "Deployments must define CPU and memory limits"}})
    eventually(lambda: phase(api, "limits-g1") == "Pending", what="g1 Pending")
    api.patch_cluster_custom_object(G, V, "policyproposals", "limits-g1", {"spec": {"approved": True}})
    eventually(lambda: phase(api, "limits-g1") == "Applied", what="g1 Applied")
    before = api.get_cluster_custom_object(*VP, "limits-require-limits")
    assert "'cpu' in c.resources.limits" in before["spec"]["validations"][0]["expression"]

    api.patch_cluster_custom_object(G, V, "patterns", "limits",
                                    {"spec": {"description": "Deployments must define memory limits"}})
    eventually(lambda: phase(api, "limits-g2") == "Pending", what="g2 Pending")
    g2 = api.get_cluster_custom_object(G, V, "policyproposals", "limits-g2")
    assert g2["status"]["replaces"] == ["limits-g1"]
    removed = [line for line in g2["status"]["diff"].splitlines() if line.startswith("-") and "'cpu'" in line]
    assert removed, g2["status"]["diff"]
    assert g2["status"]["diffSummary"].startswith("+")
    # Until approved, the old policy stays as it was.
    still = api.get_cluster_custom_object(*VP, "limits-require-limits")
    assert still["spec"]["validations"] == before["spec"]["validations"]
    assert phase(api, "limits-g1") == "Applied"

    cli = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "diff", "limits-g2"], capture_output=True,
                         text=True, check=False, env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)})
    assert cli.returncode == 1, cli.stderr  # exit 1: the proposal would change what is applied
    assert cli.stdout.startswith("# limits-g2 (limits): +")
    assert "'cpu' in c.resources.limits" in cli.stdout

    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}  # --kubeconfig alone must be enough
    approve = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "approve", "limits-g2", "--kubeconfig",
                              str(cluster.kubeconfig)], capture_output=True, text=True, env=env, check=False)
    assert approve.returncode == 0 and "limits-g2 approved" in approve.stdout, approve.stderr
    eventually(lambda: phase(api, "limits-g2") == "Applied", what="g2 Applied")
    eventually(lambda: phase(api, "limits-g1") == "Superseded", what="g1 Superseded")
    after = api.get_cluster_custom_object(*VP, "limits-require-limits")
    assert "'cpu'" not in after["spec"]["validations"][0]["expression"]
    assert [o["name"] for o in after["metadata"]["ownerReferences"]] == ["limits-g2"]

    out = tmp_path / "export"
    exported = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "export", "-o", str(out)],
                              capture_output=True, text=True, env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)})
    assert exported.returncode == 0, exported.stderr
    written = yaml.safe_load((out / "policies" / "limits-require-limits.yaml").read_text())
    assert written["spec"] == after["spec"] and "ownerReferences" not in written["metadata"]
    assert run_suite(out / "tests" / "limits").passed
    api.delete_cluster_custom_object(G, V, "patterns", "limits")


def test_unchanged_generation_creates_nothing_new(api: client.CustomObjectsApi, operator: KopfRunner) -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "stable"},
        "spec": {"description": "Containers must not run in privileged mode"}})
    eventually(lambda: phase(api, "stable-g1") == "Pending", what="g1 Pending")
    # A metadata-only change (no new generation) and a resync must not propose again.
    api.patch_cluster_custom_object(G, V, "patterns", "stable", {"metadata": {"labels": {"team": "platform"}}})
    pattern = api.get_cluster_custom_object(G, V, "patterns", "stable")
    assert pattern["metadata"]["generation"] == 1
    time.sleep(2)
    names = [p["metadata"]["name"] for p in api.list_cluster_custom_object(
        G, V, "policyproposals", label_selector="patternpolicy.io/pattern=stable")["items"]]
    assert names == ["stable-g1"]
    api.delete_cluster_custom_object(G, V, "patterns", "stable")


def test_impact_counts_existing_objects_that_would_be_denied(api: client.CustomObjectsApi,
                                                             operator: KopfRunner) -> None:
    core, apps = client.CoreV1Api(), client.AppsV1Api()
    core.create_namespace({"metadata": {"name": "impact"}})

    def deployment(name: str, limits: dict[str, str] | None) -> dict[str, Any]:
        container: dict[str, Any] = {"name": "c", "image": "nginx:1.27"}
        if limits:
            container["resources"] = {"limits": limits}
        return {"metadata": {"name": name}, "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}

    apps.create_namespaced_deployment("impact", deployment("unbounded", None))
    apps.create_namespaced_deployment("impact", deployment("bounded", {"cpu": "1", "memory": "1Gi"}))
    apps.create_namespaced_deployment("kube-system", deployment("system-unbounded", None))
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "impact-limits"},
        "spec": {"description": "Deployments must define CPU and memory limits"}})
    eventually(lambda: phase(api, "impact-limits-g1") == "Pending", what="proposal Pending")
    status = api.get_cluster_custom_object(G, V, "policyproposals", "impact-limits-g1")["status"]
    impact = status["validation"]["impact"]
    # kube-system is outside the policy's scope, so its Deployment is not counted. (Other tests of this
    # session leave Deployments of their own namespaces: only this test's namespaces are asserted exactly.)
    mine = [o for o in impact["objects"] if o.split("/")[1] in ("impact", "kube-system")]
    assert mine == ["Deployment/impact/unbounded"], impact
    others = len(impact["objects"]) - len(mine)
    assert (impact["wouldDeny"] - others, status["wouldDeny"] - others) == (1, 1)
    api.delete_cluster_custom_object(G, V, "patterns", "impact-limits")
