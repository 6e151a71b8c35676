"""How long the field checker takes: schema loading once, then per rule (p50/p95).

Run from the repository root:
    PYTHONPATH=operator python benchmarks/bench_field_check.py [--cases ../shared/policy-bench/cases-dev.json]

Rules come from the offline analyser on the bench cases (or a few built-in
patterns when no cases file is given). Prints numbers only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import discover
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.models.rules import Rule
from patternpolicy.schemas import BuiltinSchemas, resolve
from patternpolicy.services.bench import case_pattern
from patternpolicy.validate.cel_syntax import parse
from patternpolicy.validate.field_check import make_field_checker

DEFAULT_CASES = Path(__file__).resolve().parents[1].parent / "shared" / "policy-bench" / "cases-dev.json"
FALLBACK_PATTERNS = (
    "Containers must not run in privileged mode",
    "Deployments must define CPU and memory limits",
    "Services must not use the `NodePort` type",
    "Ingress hosts must not contain a wildcard",
    "Pods must carry the labels `team` and `app.kubernetes.io/name`",
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def patterns(cases: Path | None) -> list[Pattern]:
    if cases and cases.exists():
        return [case_pattern(c) for c in json.loads(cases.read_text())["cases"]]
    return [Pattern(ref=PatternRef(name=f"p{i}"), spec=PatternSpec(description=t))
            for i, t in enumerate(FALLBACK_PATTERNS)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--rounds", type=int, default=5, help="warm passes over all rules")
    args = parser.parse_args()

    catalog = KindCatalog.builtin()
    rules: list[Rule] = [r for p in patterns(args.cases)
                         for r in OfflineAnalyzer().analyze(p, catalog, discover(p, catalog)).rules]
    kinds = sum(len(r.targets) for r in rules)
    print(f"{len(rules)} rules, {kinds} (rule, kind) pairs")

    started = time.perf_counter()
    source = BuiltinSchemas()  # a fresh source: nothing cached from an earlier run in this process
    pod = source.schema_for("", "v1", "Pod")
    loaded = time.perf_counter() - started
    if pod is None:
        print("error: the built-in schemas have no Pod", file=sys.stderr)
        return 1
    print(f"schema load (Kubernetes {source.version}, _definitions.json + index): {ms(loaded)}")

    started = time.perf_counter()
    parse("object.kind == 'Pod'")
    print(f"CEL parser start-up (cel-python grammar):        {ms(time.perf_counter() - started)}")

    started = time.perf_counter()
    resolve(pod, ("spec", "containers", "[]", "securityContext", "privileged"))
    print(f"first path resolution (Pod, uncached):           {ms(time.perf_counter() - started)}")

    check = make_field_checker(source)
    cold: list[float] = []
    problems = 0
    for rule in rules:
        started = time.perf_counter()
        problems += len(check(rule))
        cold.append(time.perf_counter() - started)
    warm: list[float] = []
    for _ in range(args.rounds):
        for rule in rules:
            started = time.perf_counter()
            check(rule)
            warm.append(time.perf_counter() - started)

    for label, values in (("first pass (parse + resolve caches filling)", cold), ("warm passes", warm)):
        print(f"per rule, {label}: p50 {ms(statistics.median(values))}  p95 {ms(percentile(values, 0.95))}  "
              f"max {ms(max(values))}  total {ms(sum(values))}")
    print(f"problems found: {problems}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
