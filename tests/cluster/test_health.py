"""What GitOps tools read: a Pattern waits for approval as Ready=False/AwaitingApproval, then is Ready=True once
`patternpolicy approve` took effect, with the generation observed (real apiserver, operator in-process)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client

from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"


def ready(api: client.CustomObjectsApi, plural: str, name: str, status: str, reason: str) -> dict[str, Any] | None:
    """The object when its Ready condition is (status, reason) and it reports the current generation."""
    found = get_or_none(api, G, V, plural, name) or {}
    conditions = {c["type"]: c for c in (found.get("status") or {}).get("conditions") or []}
    condition = conditions.get("Ready") or {}
    if (condition.get("status"), condition.get("reason")) != (status, reason):
        return None
    return found


def test_pattern_ready_after_approval(api: client.CustomObjectsApi, operator: KopfRunner, cluster: Any) -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "health-limits"},
        "spec": {"description": "Deployments must define CPU and memory limits",
                 "suggestedResources": ["Deployment"]}})
    waiting = eventually(lambda: ready(api, "patterns", "health-limits", "False", "AwaitingApproval"), timeout=90,
                         what="pattern Ready=False/AwaitingApproval")
    generation = waiting["metadata"]["generation"]
    conditions = {c["type"]: c for c in waiting["status"]["conditions"]}
    assert waiting["status"]["observedGeneration"] == generation == conditions["Ready"]["observedGeneration"]
    assert "Reconciling" not in conditions and "Stalled" not in conditions, conditions
    assert "health-limits-g1" in conditions["Ready"]["message"]
    # The pattern may say so a moment before kopf patches the proposal (its handler refreshes the pattern first).
    proposal = eventually(lambda: ready(api, "policyproposals", "health-limits-g1", "False", "AwaitingApproval"),
                          what="proposal Ready=False/AwaitingApproval")
    assert proposal["status"]["observedGeneration"] == proposal["metadata"]["generation"]

    approved = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "approve", "health-limits-g1"],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)})
    assert approved.returncode == 0, approved.stderr

    done = eventually(lambda: ready(api, "patterns", "health-limits", "True", "PolicyApplied"), timeout=90,
                      what="pattern Ready=True after approval")
    conditions = {c["type"]: c for c in done["status"]["conditions"]}
    assert done["status"]["observedGeneration"] == done["metadata"]["generation"] == \
        conditions["Ready"]["observedGeneration"]
    assert "Reconciling" not in conditions and "Stalled" not in conditions, conditions
    applied = eventually(lambda: ready(api, "policyproposals", "health-limits-g1", "True", "PolicyApplied"),
                         what="proposal Ready=True")
    assert applied["status"]["observedGeneration"] == applied["metadata"]["generation"] == 2  # approval is a spec edit
    api.delete_cluster_custom_object(G, V, "patterns", "health-limits")
