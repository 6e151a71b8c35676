"""Capability-index benchmark: cold build of 2,000 synthetic CRD kinds, one incremental update,
search latency, embedding throughput, restart and memory. Prints numbers; asserts nothing.

    PYTHONPATH=operator:. python benchmarks/bench_index.py [--kinds 2000] [--queries 200]

Goals (issue "Resource discovery"): cold build < 15 s on 2 cores, one update < 1 s,
RSS with the index loaded < 400 MB. The machine's load average is printed too: other
processes on a 2-core machine slow the numpy/BLAS work down a lot.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "operator"), str(ROOT)]

from tests.support.kind_cases import crd_manifest, load  # noqa: E402

from patternpolicy.adapters.embeddings import load_embedder  # noqa: E402
from patternpolicy.adapters.qdrant_store import StoreLocation  # noqa: E402
from patternpolicy.discovery.catalog import KindCatalog  # noqa: E402
from patternpolicy.discovery.entries import KindEntry, entries_from_catalog  # noqa: E402
from patternpolicy.discovery.index import ENTRY_MAX_TOKENS, CapabilityIndex  # noqa: E402

PROVIDERS = ["aws", "azure", "gcp", "oci", "ibm", "alibaba", "digitalocean", "linode", "vultr", "hetzner"]
SERVICES = ["compute", "storage", "network", "database", "cache", "messaging", "identity", "security", "monitoring",
            "dns", "cdn", "analytics", "kubernetes", "serverless", "registry", "backup", "keyvault", "search",
            "streaming", "ai"]
ADJECTIVES = ["", "Managed", "Flexible", "Global", "Regional", "Private", "Elastic", "Serverless", "Dedicated",
              "Virtual", "Container", "Replicated"]
NOUNS = ["Database", "Server", "Cluster", "Bucket", "Queue", "Topic", "Gateway", "Certificate", "FirewallRule",
         "Policy", "Account", "Instance", "Volume", "Snapshot", "Backup", "Endpoint", "Key", "SecretVersion",
         "RoleAssignment", "Network", "Subnet", "RouteTable", "Cache", "Repository", "Pipeline", "Function",
         "Trigger", "AlertRule", "Dashboard", "Zone", "Record", "Index", "Stream", "Model", "Workspace"]
SENTENCES = [
    "Provides a {p} {s} {n} resource.", "Manages the lifecycle of a {n} in {p} {s}.",
    "A {n} stores configuration for the {s} service and is reconciled by the {p} provider.",
    "Use this resource to create and manage {n} objects, including access control, encryption and tags.",
    "Generator information: - Generated from: /{s}/resource-manager/{p}/stable/2023-01-01/{n}s.json "
    "- ARM URI: /subscriptions/{{subscriptionId}}/resourceGroups/{{resourceGroupName}}/providers/{p}/{n}s/{{name}}",
]


def synthetic_crds(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    crds, seen = [], set()
    while len(crds) < count:
        provider, service = rng.choice(PROVIDERS), rng.choice(SERVICES)
        kind = rng.choice(ADJECTIVES) + rng.choice(NOUNS)
        group = f"{service}.{provider}.example.io"
        if (group, kind) in seen:
            continue
        seen.add((group, kind))
        noun = kind.lower()
        description = f"{kind} is the Schema for the {noun}s API. " + " ".join(
            rng.choice(SENTENCES).format(p=provider, s=service, n=noun) for _ in range(rng.randint(1, 3)))
        crds.append(crd_manifest({"group": group, "kind": kind, "plural": noun + "s",
                                  "versions": rng.choice([["v1beta1"], ["v1", "v1beta1"], ["v1alpha1"]]),
                                  "categories": [provider, "managed"], "description": description}))
    return crds


def rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:  # peak RSS instead of current
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kinds", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}, python {sys.version.split()[0]}")
    print(f"rss at start {rss_mb():.0f} MB")

    started = time.perf_counter()
    loaded = load_embedder()
    if loaded.embedder is None:
        print(f"no embedding model ({loaded.note}); nothing to benchmark")
        return
    embedder = loaded.embedder
    print(f"model load {time.perf_counter() - started:.2f} s; rss {rss_mb():.0f} MB")

    crds = synthetic_crds(args.kinds)
    entries = entries_from_catalog(KindCatalog.builtin()) + [e for e in map(KindEntry.from_crd, crds) if e]
    texts = [e.embedding_text() for e in entries]
    tokenizer = embedder.tokenizer  # type: ignore[attr-defined]
    full = [len(tokenizer.encode(t, 256).ids) for t in texts]
    tokens = [min(n, ENTRY_MAX_TOKENS) for n in full]
    print(f"{len(entries)} kinds ({args.kinds} synthetic CRDs + built-ins); kind texts {statistics.mean(full):.0f} "
          f"tokens on average, {statistics.mean(tokens):.0f} as embedded (cut at {ENTRY_MAX_TOKENS})")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index"
        index = CapabilityIndex.open(StoreLocation(None, path), loaded)
        wall, cpu = time.perf_counter(), time.process_time()
        index.upsert(entries)
        build, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"cold build: {build:.2f} s wall, {build_cpu:.2f} s cpu ({len(entries) / build:.0f} kinds/s)  "
              f"[goal < 15 s]")
        started = time.perf_counter()
        embedder.embed(texts, max_tokens=ENTRY_MAX_TOKENS)
        embed_only = time.perf_counter() - started
        print(f"  of which embedding about {embed_only:.2f} s ({len(texts) / embed_only:.0f} kind texts/s, "
              f"{sum(tokens) / embed_only:.0f} tokens/s); the rest is Qdrant's writes")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"rss with the index loaded {rss_mb():.0f} MB; peak {peak:.0f} MB  [goal < 400 MB]")

        changed = crd_manifest({"group": "dbforpostgresql.azure.com", "kind": "FlexibleServer",
                                "plural": "flexibleservers", "versions": ["v1api20221201"],
                                "description": "An Azure Database for PostgreSQL flexible server."})
        timings = []
        for i in range(5):
            changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] += f" Revision {i}."
            started = time.perf_counter()
            index.upsert_crd(changed)
            timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.search("Azure PostgreSQL servers must reference a ResourceGroup")
        first_search = time.perf_counter() - started  # rebuilds the name catalog and word index
        started = time.perf_counter()
        index.remove_crd(changed)
        removed = time.perf_counter() - started
        print(f"incremental update of one CRD: median {statistics.median(timings) * 1000:.0f} ms, "
              f"max {max(timings) * 1000:.0f} ms; removal {removed * 1000:.0f} ms  [goal < 1 s]; first search "
              f"after it {first_search * 1000:.0f} ms")

        _, _, cases = load()
        queries = [c.text for c in cases]
        queries = (queries * (args.queries // len(queries) + 1))[: args.queries]
        latencies = []
        for text in queries:
            started = time.perf_counter()
            index.search(text)
            latencies.append(time.perf_counter() - started)
        print(f"search latency over {len(queries)} queries: p50 {pct(latencies, 0.5) * 1000:.0f} ms, "
              f"p95 {pct(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")

        started = time.perf_counter()
        embedder.embed(queries)
        elapsed = time.perf_counter() - started
        print(f"embedding throughput, pattern texts in one call: {len(queries) / elapsed:.0f} texts/s")
        started = time.perf_counter()
        for text in queries[:50]:
            embedder.embed([text])
        print(f"embedding one query at a time: {50 / (time.perf_counter() - started):.0f} texts/s")
        index.close()

        started = time.perf_counter()
        reopened = CapabilityIndex.open(StoreLocation(None, path), loaded)
        reopen = time.perf_counter() - started
        started = time.perf_counter()
        report = reopened.sync(entries)
        resync = time.perf_counter() - started
        print(f"restart: reopen {reopen:.2f} s ({len(reopened)} kinds restored), resync of unchanged kinds "
              f"{resync:.2f} s ({report.unchanged} unchanged, {report.updated + report.added} embedded)")
        reopened.close()
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        print(f"index on disk {size / 2**20:.1f} MB")
    print(f"final rss {rss_mb():.0f} MB; load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
