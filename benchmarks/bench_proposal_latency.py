"""Time from `kubectl apply` of a Pattern to its PolicyProposal being Pending (offline analyser).

Real control plane (etcd, kube-apiserver, kube-controller-manager) on loopback, the operator
in-process, the real Kyverno CLI for behaviour checks. Prints p50/p95; asserts nothing.

    python benchmarks/bench_proposal_latency.py [--patterns 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from cluster_bench import G, V, cluster, pattern
from kopf.testing import KopfRunner
from kubernetes import client


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
    with cluster() as (cp, bins, _):
        os.environ["PATTERNPOLICY_KYVERNO"] = str(bins / "kyverno")
        os.environ["KUBECONFIG"] = str(cp.kubeconfig)
        api = client.CustomObjectsApi()
        with KopfRunner(["run", "-A", "--standalone", "-m", "patternpolicy.handlers"]):
            time.sleep(2)  # let the operator list and watch
            latencies = []
            for i in range(args.patterns):
                name = f"bench-{i}"
                started = time.monotonic()
                api.create_cluster_custom_object(G, V, "patterns", pattern(name, i))
                latencies.append(wait_pending(api, f"{name}-g1") - started)
            burst_start = time.monotonic()
            for i in range(args.patterns):
                api.create_cluster_custom_object(G, V, "patterns", pattern(f"burst-{i}", i))
            burst = [wait_pending(api, f"burst-{i}-g1", timeout=300) - burst_start for i in range(args.patterns)]
    print(f"proposal latency, one at a time ({args.patterns} patterns): p50 {statistics.median(latencies):.2f}s "
          f"p95 {percentile(latencies, 0.95):.2f}s max {max(latencies):.2f}s")
    print(f"proposal latency, {args.patterns} applied at once: all Pending after {max(burst):.2f}s "
          f"(p50 {statistics.median(burst):.2f}s)")


if __name__ == "__main__":
    main()
