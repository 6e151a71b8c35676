"""Many patterns at once: time until every proposal is Pending, and peak memory of operator plus children.

The operator runs as its own process (`patternpolicy run`, as in a pod), so its resident memory and that
of the Kyverno CLI processes it starts can be summed. Real control plane on loopback, offline analyser,
real Kyverno CLI. Prints figures; asserts nothing (see docs/benchmarks.md).

    python benchmarks/bench_scale.py [--patterns 500]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import psutil
from cluster_bench import ROOT, G, V, cluster, pattern
from kubernetes import client

CHART_LIMIT_MB = 1024


class PeakMemory(threading.Thread):
    """Samples the memory of a process and all its descendants as their cgroup charges it: proportional set
    size (PSS), so that pages a child shares with the operator (a forked child before its exec, shared
    libraries) count once, not once per process as summed RSS would."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_total = self.peak_operator = 0
        self.peak_children = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                own = _pss(self.root)
                children = self.root.children(recursive=True)
                rest = sum(_pss(c) for c in children)
            except psutil.NoSuchProcess:
                return
            self.peak_operator = max(self.peak_operator, own)
            self.peak_children = max(self.peak_children, len(children))
            self.peak_total = max(self.peak_total, own + rest)
            time.sleep(0.2)


def _pss(proc: psutil.Process) -> int:
    try:
        return int(proc.memory_full_info().pss)
    except psutil.NoSuchProcess:
        return 0


def phases(api: client.CustomObjectsApi) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in api.list_cluster_custom_object(G, V, "policyproposals").get("items") or []:
        phase = (item.get("status") or {}).get("phase") or "none"
        counts[phase] = counts.get(phase, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patterns", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    with cluster() as (cp, bins, tmp):
        api = client.CustomObjectsApi()
        env = {**os.environ, "KUBECONFIG": str(cp.kubeconfig), "PATTERNPOLICY_KYVERNO": str(bins / "kyverno"),
               "PATTERNPOLICY_INDEX_PATH": str(tmp / "index"),
               "PYTHONPATH": os.pathsep.join([str(ROOT / "operator"), os.environ.get("PYTHONPATH", "")])}
        env.pop("PATTERNPOLICY_ANALYSER", None)
        log = tmp / "operator.log"
        with log.open("wb") as handle:
            operator = subprocess.Popen([sys.executable, "-m", "patternpolicy.cli", "run", "--standalone"],
                                        stdout=handle, stderr=subprocess.STDOUT, env=env)
        memory = PeakMemory(operator.pid)
        memory.start()
        try:
            time.sleep(5)  # start-up: index the cluster's kinds, list and watch
            idle = memory.peak_total
            started = time.monotonic()
            for i in range(args.patterns):
                api.create_cluster_custom_object(G, V, "patterns", pattern(f"scale-{i}", i))
            created = time.monotonic() - started
            counts: dict[str, int] = {}
            while time.monotonic() - started < args.timeout:
                counts = phases(api)
                if sum(n for phase, n in counts.items() if phase != "none") >= args.patterns:
                    break
                time.sleep(2)
            elapsed = time.monotonic() - started
        finally:
            memory.stop.set()
            operator.terminate()
            try:
                operator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                operator.kill()
    mb = 1024 * 1024
    print(f"scale: {args.patterns} patterns created in {created:.1f}s; every proposal decided after {elapsed:.1f}s "
          f"({args.patterns / elapsed:.1f} patterns/s); phases {counts}")
    print(f"scale: peak memory (PSS) operator + children {memory.peak_total / mb:.0f} MB (operator alone "
          f"{memory.peak_operator / mb:.0f} MB, idle {idle / mb:.0f} MB, at most {memory.peak_children} child "
          f"processes at once; chart limit {CHART_LIMIT_MB} MB)")


if __name__ == "__main__":
    main()
