"""Time from `kubectl apply` of a Pattern to its PolicyProposal being Pending (offline analyser).

Real control plane (etcd, kube-apiserver, kube-controller-manager) on loopback, the operator
in-process, the real Kyverno CLI for behaviour checks. Prints p50/p95; asserts nothing.

    python benchmarks/bench_proposal_latency.py [--patterns 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator")]

import yaml  # noqa: E402
from kopf.testing import KopfRunner  # noqa: E402
from kubernetes import client, config  # noqa: E402
from tests.support.binaries import bin_dir  # noqa: E402
from tests.support.controlplane import control_plane  # noqa: E402
from tests.support.kube import install_crds  # noqa: E402

G, V = "patternpolicy.io", "v1alpha1"
DESCRIPTIONS = [
    "Containers must not run in privileged mode",
    "Deployments must define CPU and memory limits",
    "Images must not use the latest tag",
    "Services must not use the `NodePort` type",
    "Ingress hosts must not contain a wildcard",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_pending(api: client.CustomObjectsApi, name: str, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = api.get_cluster_custom_object(G, V, "policyproposals", name)
        except client.exceptions.ApiException:
            found = {}
        phase = (found.get("status") or {}).get("phase")
        if phase == "Pending":
            return time.monotonic()
        if phase:
            raise RuntimeError(f"{name} ended {phase}: {found['status'].get('validation')}")
        time.sleep(0.02)
    raise TimeoutError(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patterns", type=int, default=50)
    args = parser.parse_args()
    bins = bin_dir()
    os.environ["PATTERNPOLICY_KYVERNO"] = str(bins / "kyverno")
    with tempfile.TemporaryDirectory() as tmp, control_plane(bins, Path(tmp)) as cp:
        os.environ["KUBECONFIG"] = str(cp.kubeconfig)
        config.load_kube_config(str(cp.kubeconfig))
        crds = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml"))]
        crds += [yaml.safe_load(p.read_text())
                 for p in sorted((bins / "crds" / "policies.kyverno.io").glob("*validatingpolicies.yaml"))]
        install_crds(client.ApiextensionsV1Api(), crds)
        api = client.CustomObjectsApi()
        with KopfRunner(["run", "-A", "--standalone", "-m", "patternpolicy.handlers"]):
            time.sleep(2)  # let the operator list and watch
            latencies = []
            for i in range(args.patterns):
                name = f"bench-{i}"
                started = time.monotonic()
                api.create_cluster_custom_object(G, V, "patterns", {
                    "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
                    "spec": {"description": DESCRIPTIONS[i % len(DESCRIPTIONS)]}})
                latencies.append(wait_pending(api, f"{name}-g1") - started)
            burst_start = time.monotonic()
            for i in range(args.patterns):
                api.create_cluster_custom_object(G, V, "patterns", {
                    "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": f"burst-{i}"},
                    "spec": {"description": DESCRIPTIONS[i % len(DESCRIPTIONS)]}})
            burst = [wait_pending(api, f"burst-{i}-g1", timeout=300) - burst_start for i in range(args.patterns)]
    print(f"proposal latency, one at a time ({args.patterns} patterns): p50 {statistics.median(latencies):.2f}s "
          f"p95 {percentile(latencies, 0.95):.2f}s max {max(latencies):.2f}s")
    print(f"proposal latency, {args.patterns} applied at once: all Pending after {max(burst):.2f}s "
          f"(p50 {statistics.median(burst):.2f}s)")


if __name__ == "__main__":
    main()
