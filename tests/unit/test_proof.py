"""Only samples the engine judged count as proof (issue 12, item 5).

The outputs read here are what the real `kyverno test` printed for tests/support/judged_suite.py
(tests/engine/test_judged_samples.py runs the CLI again and checks they still are): a
Deployment-only rule whose suite also holds Pods, which the CLI marks Excluded and counts as passed.
"""

from __future__ import annotations

from typing import Any

import pytest

from patternpolicy.adapters.kyverno_cli import SuiteRun, read_run
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.analysis.podspec import pod_samples
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import discover
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.services.validation import behaviour_check
from patternpolicy.validate.proof import assess, engine_form
from tests.support.judged_suite import CASES, OUTPUTS, suite

ENGINES = ("ValidatingPolicy", "ClusterPolicy")
EXIT_CODES = {"mixed": 0, "pods-deny": 0, "wrong": 1}  # what the CLI exited with on each recorded run
CATALOG = KindCatalog.builtin()


def recorded(engine: str, case: str) -> SuiteRun:
    return read_run((OUTPUTS / f"{engine.lower()}-{case}.txt").read_text().strip(), EXIT_CODES[case])


def replay(engine: str, case: str) -> Any:
    return lambda _directory: recorded(engine, case)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_cli_counts_excluded_pods_as_passed_and_the_rows_say_they_were_not_judged(engine: str) -> None:
    run = recorded(engine, "mixed")
    assert run.passed  # the CLI's own verdict: 4 tests passed
    judged = {row.name: row.judged for row in run.rows}
    assert judged == {"good": True, "bad": True, "pod-good": False, "pod-bad": False}
    assert {row.reason for row in run.rows if not row.judged} == {"Excluded"}
    if engine == "ClusterPolicy":
        assert {row.rule for row in run.rows} == {"require-limits"}


@pytest.mark.parametrize("engine", ENGINES)
def test_excluded_samples_are_named_and_not_counted(engine: str) -> None:
    _, tests = suite(engine, CASES["mixed"])
    proof = assess(tests, recorded(engine, "mixed").rows)
    assert proof.proven and (proof.judged, proof.samples) == (2, 4)
    assert proof.not_judged == ["Pod/pod-good (excluded by the engine)", "Pod/pod-bad (excluded by the engine)"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_whose_only_violating_sample_was_excluded_is_not_proven(engine: str) -> None:
    run = recorded(engine, "pods-deny")
    assert run.passed  # the CLI says every test passed ...
    _, tests = suite(engine, CASES["pods-deny"])
    proof = assess(tests, run.rows)
    assert not proof.proven  # ... yet nothing it judged shows the rule denies anything
    assert proof.unproven == ["limits-require-limits/require-limits: no violating sample judged with its "
                              "expected verdict"]
    assert "Pod/pod-bad (excluded by the engine)" in proof.summary()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_wrong_verdict_counts_neither_as_proof_nor_as_judged_agreement(engine: str) -> None:
    run = recorded(engine, "wrong")
    assert not run.passed
    assert run.failures == ["limits-require-limits apps/v1/Deployment/default/bad: Want pass, got fail "
                            "(every container must set limits)"]
    _, tests = suite(engine, CASES["wrong"])
    assert not assess(tests, run.rows).proven


@pytest.mark.parametrize("engine", ENGINES)
def test_the_behaviour_record_names_what_the_engine_did_not_judge(engine: str) -> None:
    policies, tests = suite(engine, CASES["mixed"])
    result = behaviour_check("limits", policies, tests, runner=replay(engine, "mixed"))
    assert result == {"result": "Passed", "detail": (
        "kyverno test: 2 of 4 sample(s) judged by the engine, each got its expected verdict; not judged (not "
        "counted): Pod/pod-good (excluded by the engine), Pod/pod-bad (excluded by the engine)")}

    # Not contradicted, not proven either: no verdict (applied only with allowUnproven), as without an engine.
    policies, tests = suite(engine, CASES["pods-deny"])
    result = behaviour_check("limits", policies, tests, runner=replay(engine, "pods-deny"))
    assert result["result"] == "Skipped"
    assert result["detail"].startswith("kyverno test: not proven: limits-require-limits/require-limits: no "
                                       "violating sample judged with its expected verdict (1 of 2 sample(s) judged")
    assert "Pod/pod-bad (excluded by the engine)" in result["detail"]

    policies, tests = suite(engine, CASES["wrong"])
    result = behaviour_check("limits", policies, tests, runner=replay(engine, "wrong"))
    assert result["result"] == "Failed"
    assert result["detail"].startswith("limits-require-limits apps/v1/Deployment/default/bad: Want pass, got fail")
    assert result["detail"].endswith("not judged (not counted): Pod/pod-bad (excluded by the engine)")


def test_a_sample_without_any_row_is_not_judged() -> None:
    _, tests = suite("ValidatingPolicy", CASES["mixed"])
    rows = [r for r in recorded("ValidatingPolicy", "mixed").rows if r.name != "bad"]
    proof = assess(tests, rows)
    assert not proof.proven and "Deployment/bad (no result from the engine)" in proof.not_judged


def test_a_validating_admission_policy_is_judged_in_its_validating_policy_form() -> None:
    """The CLI runs a VAP's expressions on any resource (a Pod errors on `spec.template` under a Deployment-only
    rule) and on no custom kind (every sample Excluded): it judges the same match and CEL as a ValidatingPolicy."""
    policies, _ = suite("ValidatingAdmissionPolicy", CASES["mixed"])
    vap, binding = policies
    judged, converted = engine_form(policies)
    assert converted == ["limits-require-limits"]
    (form,) = judged
    assert (form["apiVersion"], form["kind"], form["metadata"]["name"]) == (
        "policies.kyverno.io/v1", "ValidatingPolicy", "limits-require-limits")
    shared = {k: v for k, v in vap["spec"].items() if k != "failurePolicy"}
    assert {k: form["spec"][k] for k in shared} == shared  # match constraints and validations unchanged
    assert form["spec"]["validationActions"] == binding["spec"]["validationActions"]
    kyverno_policies, _ = suite("ValidatingPolicy", CASES["mixed"])
    assert engine_form(kyverno_policies) == (kyverno_policies, [])  # Kyverno's own policies are judged as they are


@pytest.mark.parametrize(("kinds", "expected"), [
    (["Deployment"], [("Deployment", "spec.template.spec")]),
    (["Pod"], [("Pod", "spec")]),
    (["StatefulSet", "CronJob"], [("StatefulSet", "spec.template.spec")]),
    (["CronJob"], [("CronJob", "spec.jobTemplate.spec.template.spec")]),
    (["Pod", "Job", "Deployment"], [("Pod", "spec"), ("Deployment", "spec.template.spec")]),
])
def test_pod_samples_are_only_of_kinds_the_rule_governs(kinds: list[str], expected: list[tuple[str, str]]) -> None:
    targets = [k for k in (CATALOG.by_kind(name) for name in kinds) if k is not None]
    samples = pod_samples("r", {"containers": [{"name": "a", "image": "x"}]}, "deny", "bad", targets)
    found = []
    for sample in samples:
        node: Any = sample.resource
        path = next(p for kind, p in expected if kind == sample.resource["kind"])
        for key in path.split("."):
            node = node[key]
        assert node == {"containers": [{"name": "a", "image": "x"}]}
        found.append((sample.resource["kind"], path))
    assert found == expected


@pytest.mark.parametrize("description", [
    "Deployments must define CPU and memory limits",  # examples/patterns/require-limits.yaml
    "StatefulSets must not run privileged containers",
    "CronJobs must carry the label `team`",
    "Containers must not run in privileged mode",  # Pods and every controller
])
def test_offline_rules_only_carry_samples_of_their_own_kinds(description: str) -> None:
    pattern = Pattern(ref=PatternRef(name="p"), spec=PatternSpec(description=description))
    analysis = OfflineAnalyzer().analyze(pattern, CATALOG, discover(pattern, CATALOG))
    assert analysis.rules, analysis.reason
    for rule in analysis.rules:
        targets = {(k.api_version, k.kind) for k in rule.targets}
        kinds = {(s.resource["apiVersion"], s.resource["kind"]) for s in rule.samples}
        assert kinds <= targets, f"{rule.id}: samples of {kinds - targets} it does not govern"
        assert {s.expect for s in rule.samples} == {"allow", "deny"}
