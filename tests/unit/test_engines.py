"""Engine choice from cluster facts, and the ClusterPolicy / VAP outputs."""

from __future__ import annotations

import pytest

from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.compile.choice import ClusterFacts, choose_engine
from patternpolicy.compile.engines import CLUSTER_POLICY, VAP_V1, EngineTarget
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern, PatternRef, parse_pattern_spec
from patternpolicy.services.pipeline import run_pipeline

KYVERNO_119 = ClusterFacts(kubernetes_version="v1.36.3", validating_policy_versions=["v1", "v1beta1", "v1alpha1"],
                           cluster_policy=True, vap=True, kyverno_version=(1, 19, 1), kyverno_ready=True)


@pytest.mark.parametrize(("facts", "requested", "engine", "api_version"), [
    (KYVERNO_119, "auto", "ValidatingPolicy", "policies.kyverno.io/v1"),
    (ClusterFacts(validating_policy_versions=["v1alpha1"], cluster_policy=True, vap=True, kyverno_ready=True),
     "auto", "ValidatingPolicy", "policies.kyverno.io/v1alpha1"),
    (ClusterFacts(cluster_policy=True, vap=True, kyverno_version=(1, 12, 0), kyverno_ready=True),
     "auto", "ClusterPolicy", "kyverno.io/v1"),
    (ClusterFacts(vap=True, kubernetes_version="v1.36.3"), "auto", "ValidatingAdmissionPolicy",
     "admissionregistration.k8s.io/v1"),
    (KYVERNO_119, "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicy", "admissionregistration.k8s.io/v1"),
    (KYVERNO_119, "ClusterPolicy", "ClusterPolicy", "kyverno.io/v1"),
])
def test_engine_choice(facts: ClusterFacts, requested: str, engine: str, api_version: str) -> None:
    choice = choose_engine(facts, requested)
    assert choice.target is not None, choice.reason
    assert (choice.target.engine, choice.target.api_version) == (engine, api_version)
    assert choice.reason


def test_old_kyverno_puts_failure_action_on_the_spec() -> None:
    choice = choose_engine(ClusterFacts(cluster_policy=True, kyverno_version=(1, 12, 3), kyverno_ready=True))
    assert choice.target is not None and choice.target.rule_level_failure_action is False


def test_no_engine_is_a_clear_message_with_the_install_link() -> None:
    choice = choose_engine(ClusterFacts(kubernetes_version="v1.29.0"))
    assert choice.target is None
    assert "https://kyverno.io/docs/installation/" in choice.reason
    missing = choose_engine(ClusterFacts(vap=True), "ValidatingPolicy")
    assert missing.target is None and "Kyverno 1.14+" in missing.reason


def test_crds_without_a_controller_warn_that_nothing_is_enforced() -> None:
    choice = choose_engine(ClusterFacts(validating_policy_versions=["v1"], kyverno_ready=None))
    assert choice.target is not None and "not enforced" in choice.warnings[0]


def compiled(target: EngineTarget, **generation: object) -> list[dict[str, object]]:
    spec = parse_pattern_spec({"description": "Containers must not run in privileged mode",
                               "policyGeneration": generation})
    pattern = Pattern(ref=PatternRef(name="np", uid="u", generation=1), spec=spec)
    return run_pipeline(pattern, OfflineAnalyzer(), KindCatalog.builtin(), engine=target).policies


def test_cluster_policy_output() -> None:
    (policy,) = compiled(CLUSTER_POLICY)
    assert (policy["apiVersion"], policy["kind"]) == ("kyverno.io/v1", "ClusterPolicy")
    assert policy["metadata"]["annotations"]["pod-policies.kyverno.io/autogen-controllers"] == "none"  # type: ignore[index]
    (rule,) = policy["spec"]["rules"]  # type: ignore[index]
    assert rule["name"] == "no-privileged"
    assert "apps/v1/Deployment" in rule["match"]["any"][0]["resources"]["kinds"]
    assert rule["validate"]["failureAction"] == "Enforce"
    old = compiled(EngineTarget("ClusterPolicy", "kyverno.io/v1", rule_level_failure_action=False),
                   failureAction="Audit")[0]
    assert old["spec"]["validationFailureAction"] == "Audit"  # type: ignore[index]
    assert "failureAction" not in old["spec"]["rules"][0]["validate"]  # type: ignore[index]


def test_vap_comes_with_its_binding() -> None:
    policy, binding = compiled(VAP_V1)
    assert (policy["kind"], binding["kind"]) == ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
    assert binding["spec"] == {"policyName": "np-no-privileged", "validationActions": ["Deny"]}
    assert compiled(VAP_V1, failureAction="Audit")[1]["spec"]["validationActions"] == ["Audit", "Warn"]  # type: ignore[index]
