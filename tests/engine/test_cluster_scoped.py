"""Cluster-scoped custom kinds (every Crossplane/Upjet managed resource) through `generate --crds`,
proven by the real Kyverno CLI for each engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from patternpolicy.adapters.kyverno_cli import run_suite

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "tests" / "data" / "crds"
PATTERN = ROOT / "tests" / "data" / "patterns" / "upbound-postgresql-resource-group.yaml"
PG = "dbforpostgresql.azure.upbound.io"


@pytest.mark.parametrize("engine", ["ValidatingPolicy", "ValidatingAdmissionPolicy", "ClusterPolicy"])
def test_a_rule_on_a_cluster_scoped_managed_resource_is_proven(engine: str, tmp_path: Path,
                                                               kyverno_cli: Path) -> None:
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "patternpolicy.cli", "generate", str(PATTERN), "--crds", str(CRDS),
                          "--engine", engine, "-o", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    (entry,) = json.loads((out / "report.json").read_text())["patterns"]
    assert entry["outcome"] == "policies", entry
    # Judged, not just "Excluded and counted as passed": the CLI excludes every custom kind from a VAP, which is
    # therefore judged in its ValidatingPolicy form (the same match and CEL).
    assert entry["behaviour"].startswith("passed (kyverno test") and entry["behaviour"].endswith(
        ": 2 of 2 sample(s) judged by the engine, each got its expected verdict)"), entry
    assert ("ValidatingPolicy form" in entry["behaviour"]) == (engine == "ValidatingAdmissionPolicy"), entry
    policies = [d for p in sorted((out / "policies").glob("upbound-pg-rg-*.yaml"))
                for d in yaml.safe_load_all(p.read_text()) if d]
    assert policies[0]["kind"] == engine
    if engine != "ClusterPolicy":
        (rules,) = policies[0]["spec"]["matchConstraints"]["resourceRules"]
        # The preferred version (v1beta2 over v1beta1), as a client would send it.
        assert (rules["apiGroups"], rules["apiVersions"], rules["resources"]) == (
            [PG], ["v1beta2"], ["flexibleservers"])
    suite = out / "tests" / "upbound-pg-rg"
    samples = [d for d in yaml.safe_load_all((suite / "resources.yaml").read_text()) if d]
    assert {s["kind"] for s in samples} == {"FlexibleServer"}
    assert all("namespace" not in s["metadata"] for s in samples), samples
    rerun = run_suite(suite)  # what a GitOps repository's CI runs
    assert rerun.passed, rerun.output
    # ... and there too every sample gets a verdict (a VAP's suite runs its ValidatingPolicy form).
    assert len(rerun.rows) == 2 and {row.reason for row in rerun.rows} == {"Ok"}, rerun.rows
    assert ((suite / "engine-form.yaml").exists()) == (engine == "ValidatingAdmissionPolicy")
