"""Samples the real engine does not judge are named, never counted as proof (issue 12, item 5).

Runs tests/support/judged_suite.py on the Kyverno CLI: the rows it prints now are the rows recorded in
tests/data/kyverno_test_output/ (which tests/unit/test_proof.py reads), and the behaviour record of a
Deployment-only rule with Pod samples names the Pods as not judged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from patternpolicy.adapters.kyverno_cli import SuiteRow, read_run, run_suite
from patternpolicy.services.validation import behaviour_check
from patternpolicy.validate.kyverno_suite import suite_files
from tests.support.judged_suite import CASES, OUTPUTS, suite

pytestmark = pytest.mark.engine
EXPECTED_PASS = {"mixed": True, "pods-deny": True, "wrong": False}  # the CLI's own verdict


def shape(rows: list[SuiteRow]) -> list[tuple[str, str, str, str, str]]:
    return [(r.policy, r.rule, r.resource, r.result, r.reason) for r in rows]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("engine", ["ValidatingPolicy", "ClusterPolicy"])
def test_the_recorded_outputs_are_what_the_cli_prints(engine: str, case: str, tmp_path: Path,
                                                      kyverno_cli: Path) -> None:
    policies, tests = suite(engine, CASES[case])
    for name, content in suite_files("limits", policies, tests).items():
        (tmp_path / name).write_text(content)
    live = run_suite(tmp_path)
    recorded = read_run((OUTPUTS / f"{engine.lower()}-{case}.txt").read_text().strip(), 0 if live.passed else 1)
    assert live.passed is EXPECTED_PASS[case], live.output
    assert shape(live.rows) == shape(recorded.rows)
    assert {r.reason for r in live.rows if r.resource.startswith("v1/Pod/")} == {"Excluded"}


@pytest.mark.parametrize("engine", ["ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"])
def test_pods_of_a_deployment_only_rule_are_not_judged_and_not_counted(engine: str, kyverno_cli: Path) -> None:
    policies, tests = suite(engine, CASES["mixed"])
    result = behaviour_check("limits", policies, tests)
    assert result["result"] == "Passed", result
    form = " (limits-require-limits judged in ValidatingPolicy form: the same match and CEL)" \
        if engine == "ValidatingAdmissionPolicy" else ""
    assert result["detail"] == (f"kyverno test{form}: 2 of 4 sample(s) judged by the engine, each got its expected "
                                "verdict; not judged (not counted): Pod/pod-good (excluded by the engine), "
                                "Pod/pod-bad (excluded by the engine)"), result


@pytest.mark.parametrize("engine", ["ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"])
def test_a_rule_proven_only_by_unjudged_samples_is_not_proven(engine: str, kyverno_cli: Path) -> None:
    policies, tests = suite(engine, CASES["pods-deny"])
    result = behaviour_check("limits", policies, tests)
    assert result["result"] == "Skipped", result  # no verdict: Proven=False, applied only with allowUnproven
    assert "no violating sample judged with its expected verdict" in result["detail"], result


def test_the_cli_judges_a_validating_admission_policy_on_kinds_it_does_not_match(tmp_path: Path,
                                                                                   kyverno_cli: Path) -> None:
    """Why a VAP is judged in its ValidatingPolicy form: the CLI runs its expressions on a Pod the API server
    never sends it (and excludes every custom kind: tests/engine/test_cluster_scoped.py)."""
    policies, tests = suite("ValidatingAdmissionPolicy", CASES["mixed"])
    for name, content in suite_files("limits", policies, tests).items():
        (tmp_path / name).write_text(content)
    pods = [r for r in run_suite(tmp_path).rows if r.resource.startswith("v1/Pod/")]
    assert pods and all(r.judged and r.result == "Fail" for r in pods), pods
