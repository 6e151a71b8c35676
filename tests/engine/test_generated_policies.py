"""Generated policies on the real Kyverno engine, against resources written here by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from patternpolicy.adapters.kyverno_cli import evaluate, run_suite
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.services.generate import generate

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parents[2]


def deployment(name: str, container: dict[str, object], namespace: str = "team-a") -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", **container}]}}}}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, kyverno_cli: Path) -> Path:
    out = tmp_path_factory.mktemp("generated")
    report = generate([ROOT / "examples" / "patterns"], out, OfflineAnalyzer(), KindCatalog.builtin())
    assert report.ok, report
    return out


def policy_files(out: Path, pattern: str) -> list[Path]:
    """policies/ is flat (one file per policy): the report says which files a pattern produced."""
    report = json.loads((out / "report.json").read_text())
    return sorted(out / f for p in report["patterns"] if p["pattern"] == pattern for f in p["files"])


def verdicts(out: Path, tmp_path: Path, pattern: str, resources: list[dict[str, object]]) -> dict[str, str]:
    resource_file = tmp_path / "resources.yaml"
    resource_file.write_text(yaml.safe_dump_all(resources))
    return evaluate(policy_files(out, pattern), [resource_file])


def test_limits_policy_denies_unbounded_deployment_and_allows_bounded(generated: Path, tmp_path: Path) -> None:
    bounded = {"image": "nginx:1.27", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    result = verdicts(generated, tmp_path, "require-limits", [
        deployment("unbounded", {"image": "nginx:1.27"}),
        deployment("memory-only", {"image": "nginx:1.27", "resources": {"limits": {"memory": "1Gi"}}}),
        deployment("bounded", bounded),
    ])
    assert result == {"Deployment/team-a/unbounded": "deny", "Deployment/team-a/memory-only": "deny",
                      "Deployment/team-a/bounded": "allow"}


def test_latest_tag_policy_covers_pods_and_controllers(generated: Path, tmp_path: Path) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "untagged", "namespace": "team-a"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    result = verdicts(generated, tmp_path, "disallow-latest-tag", [
        pod, deployment("latest", {"image": "ghcr.io/acme/api:latest"}),
        deployment("pinned", {"image": "ghcr.io/acme/api:2.3.1"}),
        deployment("port-no-tag", {"image": "registry.acme.io:5000/api"}),
    ])
    assert result == {"Pod/team-a/untagged": "deny", "Deployment/team-a/latest": "deny",
                      "Deployment/team-a/pinned": "allow", "Deployment/team-a/port-no-tag": "deny"}


def test_written_suites_pass_kyverno_test(generated: Path) -> None:
    suites = sorted(p for p in (generated / "tests").iterdir() if p.is_dir())
    assert [s.name for s in suites] == ["disallow-latest-tag", "no-privileged", "production-replicas",
                                        "require-limits", "require-team-label"]
    for suite in suites:
        run = run_suite(suite)
        assert run.passed, (suite.name, run.failures)
        # Every sample is one the engine judged: none of a kind the policy does not match (issue 12, item 5:
        # require-limits, Deployments only, carried Pods that `kyverno test` marked Excluded and counted).
        assert run.rows and [r.resource for r in run.rows if not r.judged] == [], suite.name
    report = json.loads((generated / "report.json").read_text())
    limits = next(p for p in report["patterns"] if p["pattern"] == "require-limits")
    assert limits["behaviour"] == ("passed (kyverno test: 3 of 3 sample(s) judged by the engine, each got its "
                                   "expected verdict)")


def test_suite_with_a_wrong_expectation_fails(generated: Path, tmp_path: Path) -> None:
    """The behaviour check can fail: flip one expected verdict and kyverno test must report it."""
    suite = tmp_path / "flipped"
    suite.mkdir()
    source = generated / "tests" / "no-privileged"
    for name in ("resources.yaml", "values.yaml"):
        (suite / name).write_text((source / name).read_text())
    test = yaml.safe_load((source / "kyverno-test.yaml").read_text())
    test["policies"] = [str((source / p).resolve()) for p in test["policies"]]
    test["results"][0]["result"] = "fail" if test["results"][0]["result"] == "pass" else "pass"
    (suite / "kyverno-test.yaml").write_text(yaml.safe_dump(test))
    run = run_suite(suite)
    assert not run.passed
    assert run.failures and all("no-privileged-no-privileged" in f for f in run.failures)


@pytest.mark.parametrize("engine", ["ClusterPolicy", "ValidatingAdmissionPolicy"])
def test_other_engines_prove_the_same_samples(engine: str, tmp_path: Path, kyverno_cli: Path) -> None:
    from patternpolicy.compile.engines import OFFLINE_DEFAULTS

    report = generate([ROOT / "examples" / "patterns"], tmp_path, OfflineAnalyzer(), KindCatalog.builtin(),
                      engine=OFFLINE_DEFAULTS[engine])
    assert report.ok, report
    produced = [p for p in report.patterns if p.outcome == "policies"]
    assert len(produced) == 5, report
    for entry in produced:
        assert entry.behaviour.startswith("passed (kyverno test"), entry
        assert "not judged" not in entry.behaviour, entry
    kinds = {d["kind"] for f in (tmp_path / "policies").rglob("*.yaml") for d in yaml.safe_load_all(f.read_text())}
    expected = {"ClusterPolicy"} if engine == "ClusterPolicy" else {"ValidatingAdmissionPolicy",
                                                                   "ValidatingAdmissionPolicyBinding"}
    assert kinds == expected
    # The same hand-written violating Deployment is denied on this engine too.
    bad = deployment("unbounded", {"image": "nginx:1.27"})
    resource = tmp_path / "bad.yaml"
    resource.write_text(yaml.safe_dump(bad))
    verdicts = evaluate(policy_files(tmp_path, "require-limits"), [resource])
    assert verdicts == {"Deployment/team-a/unbounded": "deny"}
