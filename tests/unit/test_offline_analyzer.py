"""The offline analyser on phrasings users write, and on what it must decline."""

from __future__ import annotations

import pytest

from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import discover
from patternpolicy.models.pattern import NamespaceScope, Pattern, PatternRef, PatternSpec, PolicyGeneration
from patternpolicy.models.rules import Analysis

CATALOG = KindCatalog.builtin()
POD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"}


def analyze(description: str, **spec: object) -> Analysis:
    pattern = Pattern(ref=PatternRef(name="p"), spec=PatternSpec(description=description, **spec))
    return OfflineAnalyzer().analyze(pattern, CATALOG, discover(pattern, CATALOG))


@pytest.mark.parametrize("text", [
    "Containers must not run in privileged mode",
    "Disallow privileged containers",
    "Privileged pods are forbidden",
])
def test_privileged_phrasings_target_pods_and_controllers(text: str) -> None:
    result = analyze(text)
    assert result.enforceable, result.reason
    (rule,) = result.rules
    assert {k.kind for k in rule.targets} == POD_KINDS
    assert "securityContext.privileged" in rule.validations[0].expression


def test_privilege_escalation_is_not_mistaken_for_privileged_mode() -> None:
    (rule,) = analyze("Privilege escalation must be disallowed (allowPrivilegeEscalation)").rules
    assert rule.id == "no-privilege-escalation"
    assert "privileged ==" not in rule.validations[0].expression


def test_limits_named_kind_narrows_targets_and_extracts_resources() -> None:
    (rule,) = analyze("Deployments must define CPU and memory limits").rules
    assert [k.kind for k in rule.targets] == ["Deployment"]
    expression = rule.validations[0].expression
    assert "'cpu' in c.resources.limits" in expression and "'memory' in c.resources.limits" in expression
    assert "requests" not in expression


def test_memory_requests_only() -> None:
    (rule,) = analyze("Every container should set a memory request").rules
    expression = rule.validations[0].expression
    assert "'memory' in c.resources.requests" in expression
    assert "cpu" not in expression and "limits" not in expression


def test_labels_extracts_quoted_keys_and_checks_pod_templates() -> None:
    (rule,) = analyze("Pods must carry the labels `team` and `app.kubernetes.io/name`").rules
    expression = rule.validations[0].expression
    assert "'team' in variables.podMetadata.labels" in expression
    assert "'app.kubernetes.io/name' in variables.podMetadata.labels" in expression
    assert {k.kind for k in rule.targets} == POD_KINDS


def test_labels_on_named_kind_use_its_own_metadata() -> None:
    (rule,) = analyze("Services must have labels team and owner").rules
    assert [k.kind for k in rule.targets] == ["Service"]
    assert rule.validations[0].expression == (
        "has(object.metadata.labels) && 'team' in object.metadata.labels && 'owner' in object.metadata.labels")


def test_labels_without_a_key_are_declined_with_a_reason() -> None:
    result = analyze("Deployments must have the required labels")
    assert not result.enforceable
    assert "names no label key" in result.reason


@pytest.mark.parametrize(("text", "bound"), [
    ("Deployments must run at least two replicas", 2),
    ("StatefulSets need a minimum of 3 replicas", 3),
    ("Deployments must have more than 1 replica", 2),
])
def test_min_replicas(text: str, bound: int) -> None:
    (rule,) = analyze(text).rules
    assert rule.validations[0].expression.endswith(f">= {bound}")


def test_scope_words_without_namespaces_are_declined() -> None:
    result = analyze("Deployments in production must run at least two replicas")
    assert not result.enforceable
    assert "namespaces.include" in result.reason
    scoped = analyze("Deployments in production must run at least two replicas",
                     policyGeneration=PolicyGeneration(namespaces=NamespaceScope(include=["prod"])))
    assert scoped.enforceable


def test_latest_tag() -> None:
    (rule,) = analyze("Images must not use the latest tag").rules
    assert "endsWith(':latest')" in rule.validations[0].expression


@pytest.mark.parametrize("text", [
    "Prefer managed databases over self-hosted ones",
    "Teams should document their services in the wiki",
])
def test_unrelated_text_is_declined(text: str) -> None:
    result = analyze(text)
    assert not result.enforceable
    assert result.reason.startswith("not confident")


def test_every_rule_ships_both_verdicts() -> None:
    for text in ("Containers must not run in privileged mode", "Deployments must define CPU and memory limits",
                 "Pods must carry the label `team`", "Images must not use the latest tag",
                 "Deployments must run at least two replicas"):
        for rule in analyze(text).rules:
            assert {s.expect for s in rule.samples} == {"allow", "deny"}, text


@pytest.mark.parametrize(("text", "rule_id"), [
    ("Services must not use the `NodePort` type", "no-nodeport-services"),
    ("Ingress hosts must not contain a wildcard", "no-wildcard-hosts"),
    ("Bindings to the cluster-admin ClusterRole must be prevented", "no-cluster-admin-bindings"),
    ("Images may only come from the registry `registry.acme.io`", "allowed-registries"),
    ("Every container must define a readinessProbe", "require-probes"),
    ("Host namespaces must not be shared (hostNetwork, hostPID, hostIPC)", "no-host-namespaces"),
    ("The seccomp profile must not be set to Unconfined", "restrict-seccomp"),
])
def test_intent_families(text: str, rule_id: str) -> None:
    result = analyze(text)
    assert result.enforceable, result.reason
    assert [r.id for r in result.rules] == [rule_id]


def test_identifiers_are_not_taken_for_kind_names() -> None:
    """NET_BIND_SERVICE names a capability, not the Service kind."""
    (rule,) = analyze("Adding capabilities other than `NET_BIND_SERVICE` is disallowed").rules
    assert rule.id == "restrict-added-capabilities"
    assert "Service" not in {k.kind for k in rule.targets}


def test_kinds_in_background_sentences_do_not_narrow_the_rule() -> None:
    result = analyze("Labels describe your application or Deployment. This policy validates that the label "
                     "`app.kubernetes.io/name` is specified.")
    assert not result.enforceable
    assert "which kinds" in result.reason


def test_conditional_registry_rules_are_declined() -> None:
    assert not analyze("If images come from a registry other than ghcr.io an imagePullSecret is required").enforceable
