"""Generation quality on the labelled dev cases, scored by the real Kyverno CLI.

Prints the benchmark table; asserts the quality targets (no timing here: the
time per case is printed, not asserted).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "policy-bench" / "cases-dev.json"


@pytest.fixture(scope="module")
def bench(kyverno_cli: Path) -> dict[str, object]:
    if not CASES.exists():
        raise FileNotFoundError(f"{CASES} is missing: the bench tier needs shared/policy-bench beside the repo")
    out = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "bench", "--cases", str(CASES), "--json"],
                         capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    print("policy-bench:", json.dumps(result["analysers"]))
    return result


def test_offline_analyser_meets_quality_targets(bench: dict[str, object]) -> None:
    offline = bench["analysers"]["offline"]  # type: ignore[index]
    assert offline["precision"] >= 0.95, offline
    assert offline["recall"] >= 0.60, offline
    assert offline["errors"] == 0, offline


def test_every_case_is_reported(bench: dict[str, object]) -> None:
    results = bench["results"]
    assert isinstance(results, list) and len(results) == bench["cases"]
    assert {r["outcome"] for r in results} <= {"correct", "wrong", "declined", "error"}
    declined = [r for r in results if r["outcome"] == "declined"]
    assert all(r["reason"] for r in declined), "every decline carries a reason"


FRESH = ROOT / "tests" / "data" / "policy-bench-fresh" / "cases.json"


@pytest.fixture(scope="module")
def fresh(kyverno_cli: Path) -> dict[str, object]:
    """Cases written independently of the analyser and never tuned on (tests/data/policy-bench-fresh/README.md)."""
    out = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "bench", "--cases", str(FRESH), "--json",
                          "--analyser", "offline"], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    print("policy-bench-fresh:", json.dumps(result["analysers"]))
    return result


def test_offline_analyser_never_guesses_on_cases_nobody_tuned_for(fresh: dict[str, object]) -> None:
    offline = fresh["analysers"]["offline"]  # type: ignore[index]
    assert offline["emitted"] > 0, offline  # it still turns some rules into policies
    assert offline["precision"] >= 0.95, offline
    assert offline["false_deny_rate"] <= 0.01, offline
    assert offline["errors"] == 0, offline
    declined = [r for r in fresh["results"] if r["outcome"] == "declined"]  # type: ignore[attr-defined]
    assert all(r["reason"] for r in declined), "every decline says which clause was not understood"
