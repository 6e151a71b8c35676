"""Every clause accounted for: the offline analyser declines what it does not fully implement.

Probes of the shapes that produced wrong policies on texts nobody tuned for: a condition dropped, a
prohibition read as a requirement, a value lost, a self-contradiction. Each must decline with the clause
it did not understand, or produce the correctly conditioned rule, proven on the real Kyverno CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.adapters.kyverno_cli import evaluate
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.analysis.offline.clauses import split_clauses
from patternpolicy.analysis.offline.qualifiers import qualifiers
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import discover
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.models.rules import Analysis
from patternpolicy.services.pipeline import run_pipeline

CATALOG = KindCatalog.builtin()


def pattern(description: str) -> Pattern:
    return Pattern(ref=PatternRef(name="probe"), spec=PatternSpec(description=description))


def analyze(description: str) -> Analysis:
    return OfflineAnalyzer().analyze(pattern(description), CATALOG, discover(pattern(description), CATALOG))


@pytest.mark.parametrize(("text", "quoted"), [
    # A requirement with a condition must not become unconditional.
    ("Pods that mount the container runtime socket must carry an opt-in label `runtime-access`.",
     "that mount the container runtime socket"),
    ("Pods mounting the Docker socket must carry the label `socket-access`.", "Pods mounting the Docker socket"),
    ("Deployments must run at least 3 replicas if they expose a public Service.",
     "if they expose a public Service"),
    ("Containers must define memory limits whenever the namespace has a quota.",
     "whenever the namespace has a quota"),
    ("For any Deployment that serves traffic, readiness probes must be defined.", "that serves traffic"),
    # A word narrowing a requirement's subject is a condition too.
    ("Privileged pods must carry the label `privileged-approved`.", "Privileged pods"),
    ("Init containers must define memory limits.", "Init containers"),
    ("Deployments managed by Helm must carry the label `chart`.", "managed by Helm"),
    # A requirement tied to a value keeps its condition, or nothing is emitted.
    ("The image pull policy must be Always when the image uses the latest tag or no tag.",
     "when the image uses the latest tag or no tag"),
    ("This policy validates the imagePullPolicy is set to `Always` when the `latest` tag is specified "
     "explicitly or where a tag is not defined at all.", "when the `latest` tag"),
    # Exceptions are conditions too.
    ("Containers must not run in privileged mode unless the pod carries the label `privileged-ok`.",
     "unless the pod carries the label `privileged-ok`"),
    ("Services must not be of type NodePort, except in the `edge` namespace.", "except in the `edge` namespace"),
    ("All containers must define memory limits, excluding init containers.", "excluding init containers"),
    ("Pods may not use hostPath volumes other than /data.", "other than /data"),
    # A value the rule does not use.
    ("Namespaces must set the label `team` to the value `payments`.", "to the value `payments`"),
    ("Containers must set CPU limits of at most 2 cores.", "at most"),
])
def test_unimplemented_qualifiers_are_declined_and_quoted(text: str, quoted: str) -> None:
    result = analyze(text)
    assert not result.enforceable, [r.id for r in result.rules]
    assert quoted.lower() in result.reason.lower(), result.reason


@pytest.mark.parametrize("text", [
    # A prohibition must not become a requirement.
    "Containers must not set a CPU limit.",
    "No container may define a memory limit.",
    "Pods must never carry the label `debug`.",
    "Namespaces must not have the label `legacy`.",
    "Deployments cannot have more than 5 replicas.",
    "CPU limits are not allowed.",
    "Do not set CPU limits.",
    "Containers must not use a read-only root filesystem.",
    "Pods must not define liveness probes.",
    "Deployments must not have at least 3 replicas.",
    # A requirement must not become a prohibition.
    "Pods that mount the Docker socket must carry the label `socket-access`.",
    "Containers must run privileged.",
    "Images must come from registry.acme.io.",
    "Only Deployments may use hostNetwork.",
    # What a clause says a thing must be is a value the rule must implement.
    "Pods must carry labels `app` and `version`, and the `version` label must be a semantic version.",
    "hostPath volumes must not be mounted read-write.",
    # Permissions and exemptions are part of the rule, wherever they are written.
    "Images must not use the `latest` tag. Pods using images from `registry.corp.io` are exempt.",
    "Disallow Privileged. Privileged containers must not be used. Privileged mode is only permitted for Pods in "
    "the `monitoring` Namespace.",
    "Privileged containers must not be used. This rule applies only to Pods with the label `hardened`.",
    "Images must not use the `latest` tag. Deployments with fewer than 2 replicas are skipped.",
    # A narrower intent than the rule the words trigger.
    "This policy disables the use of Secrets in environment variables for Pods.",
    "Deployments must carry the label `team` on their Pod template.",
    "Containers must not use host ports inside the range 8000-9000.",
    "This policy requires that all containers in a Pod specify memory and CPU limits and requests and that they "
    "are the same.",
    "This policy validates that liveness and readiness probes are not the same.",
    # A verdict on another topic than the rule the text spells out is a rule of its own.
    "Privileged containers should not be allowed. This policy ensures that all containers set memory limits.",
])
def test_polarity_is_never_flipped(text: str) -> None:
    result = analyze(text)
    assert not result.enforceable, [r.id for r in result.rules]


@pytest.mark.parametrize("text", [
    "Pods must carry the label `team`. Pods must never carry the label `team`.",
    "must carry label `a`. must never carry label `a`.",
    "Containers must run in privileged mode. Containers must not run in privileged mode.",
    "Pods must use hostNetwork. Pods must not use hostNetwork.",
])
def test_self_contradiction_names_both_clauses(text: str) -> None:
    result = analyze(text)
    assert not result.enforceable
    assert "contradicts itself" in result.reason
    first, second = (s.strip().rstrip(".") for s in text.split(". "))
    assert first in result.reason and second.rstrip(".") in result.reason


def test_a_clause_no_rule_covers_is_declined_with_the_clause() -> None:
    result = analyze("Containers must not run in privileged mode. Every image must be scanned by the security team.")
    assert not result.enforceable
    assert "not understood: 'Every image must be scanned by the security team'" in result.reason


def test_rules_that_only_background_mentions_are_not_emitted() -> None:
    # "privileged" appears only in a sentence that states no rule: the privileged rule is not asked for.
    result = analyze("Capabilities permit privileged actions without giving full root access. "
                     "This policy ensures that all containers explicitly drop the CAP_NET_RAW ability.")
    assert result.enforceable, result.reason
    assert [r.id for r in result.rules] == ["drop-capabilities"]


def test_background_is_classified_on_purpose() -> None:
    kinds = [c.kind for c in split_clauses(
        "Disallow Latest Tag. The ':latest' tag is mutable. A best practice is to use an immutable tag. "
        "This access can be used for escalation and hence should not be allowed. "
        "Note that this policy also illustrates how to cover drop entries. "
        "This policy validates that the image specifies a tag and that it is not called `latest`.")]
    assert kinds == ["headline", "descriptive", "advisory", "restatement", "meta", "normative"]


def test_qualifiers_are_found_with_their_words() -> None:
    found = {(q.kind, q.phrase) for q in qualifiers(
        "Pods that mount the socket must not carry label `a` set to `b` unless they are system pods")}
    assert ("condition", "that mount the socket") in found
    assert ("exception", "unless they") in found or ("exception", "unless they are system pods") in found
    assert any(kind == "negation" for kind, _ in found) and any(kind == "value" for kind, _ in found)


# Emitted rules, proven on the real engine against resources written here.


def _pod(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "registry.example.com/app:1.2.3", **spec.pop("container", {})}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "team-a", "labels": labels or {}},
            "spec": {"containers": [container], **spec}}


def _verdicts(text: str, resources: list[dict[str, Any]], tmp_path: Path) -> dict[str, str]:
    generated = run_pipeline(pattern(text), OfflineAnalyzer(), CATALOG)
    assert generated.enforceable, generated.reason
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(yaml.safe_dump_all(generated.policies))
    resource_file = tmp_path / "resources.yaml"
    resource_file.write_text(yaml.safe_dump_all(resources))
    return evaluate([policy_file], [resource_file])


@pytest.mark.engine
def test_prohibition_stays_a_prohibition_on_the_engine(tmp_path: Path, kyverno_cli: Path) -> None:
    result = _verdicts("Containers must not run in privileged mode.", [
        _pod("plain"), _pod("unprivileged", container={"securityContext": {"privileged": False}}),
        _pod("privileged", container={"securityContext": {"privileged": True}}),
    ], tmp_path)
    assert result == {"Pod/team-a/plain": "allow", "Pod/team-a/unprivileged": "allow",
                      "Pod/team-a/privileged": "deny"}


@pytest.mark.engine
def test_condition_the_rule_implements_is_kept_on_the_engine(tmp_path: Path, kyverno_cli: Path) -> None:
    # "if present" is implemented: an unset field is compliant, only true is denied.
    result = _verdicts("The `hostProcess` field, if present, must be set to `false`.", [
        _pod("unset"),
        _pod("off", container={"securityContext": {"windowsOptions": {"hostProcess": False}}}),
        _pod("on", container={"securityContext": {"windowsOptions": {"hostProcess": True}}}),
    ], tmp_path)
    assert result == {"Pod/team-a/unset": "allow", "Pod/team-a/off": "allow", "Pod/team-a/on": "deny"}


@pytest.mark.engine
def test_conditional_value_rule_allows_compliant_pods_on_the_engine(tmp_path: Path, kyverno_cli: Path) -> None:
    text = ("This policy checks every container to ensure that if the `DISABLE_OPA` environment variable is "
            'defined, it must not be set to a value of `"true"`.')
    result = _verdicts(text, [
        _pod("no-env"), _pod("false", container={"env": [{"name": "DISABLE_OPA", "value": "false"}]}),
        _pod("other", container={"env": [{"name": "OTHER", "value": "true"}]}),
        _pod("true", container={"env": [{"name": "DISABLE_OPA", "value": "true"}]}),
    ], tmp_path)
    assert result == {"Pod/team-a/no-env": "allow", "Pod/team-a/false": "allow", "Pod/team-a/other": "allow",
                      "Pod/team-a/true": "deny"}


@pytest.mark.engine
def test_presence_rule_allows_any_value_on_the_engine(tmp_path: Path, kyverno_cli: Path) -> None:
    # No value stated: presence is the whole rule, so every value is compliant.
    result = _verdicts("Pods must carry the label `team` with any value.", [
        _pod("payments", {"team": "payments"}), _pod("empty", {"team": ""}), _pod("none"),
    ], tmp_path)
    assert result == {"Pod/team-a/payments": "allow", "Pod/team-a/empty": "allow", "Pod/team-a/none": "deny"}


@pytest.mark.engine
def test_range_the_rule_implements_is_used_on_the_engine(tmp_path: Path, kyverno_cli: Path) -> None:
    # The stated range is the rule's value: ports inside it and no host port are compliant.
    result = _verdicts("Containers must not use host ports outside the range 8000-9000.", [
        _pod("none", container={"ports": [{"containerPort": 80}]}),
        _pod("inside", container={"ports": [{"containerPort": 80, "hostPort": 8080}]}),
        _pod("outside", container={"ports": [{"containerPort": 80, "hostPort": 80}]}),
    ], tmp_path)
    assert result == {"Pod/team-a/none": "allow", "Pod/team-a/inside": "allow", "Pod/team-a/outside": "deny"}


@pytest.mark.engine
def test_background_that_only_describes_is_no_condition_on_the_engine(tmp_path: Path, kyverno_cli: Path) -> None:
    # "cannot be highly available" describes; the policy statement alone is the rule.
    text = ("Require Multiple Replicas. Deployments with a single replica cannot be highly available and thus the "
            "application may suffer downtime if that one replica goes down. This policy requires that Deployments "
            "have more than one replica.")

    def deployment(name: str, replicas: int | None) -> dict[str, Any]:
        spec: dict[str, Any] = {"selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}
        if replicas is not None:
            spec["replicas"] = replicas
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "team-a"},
                "spec": spec}

    result = _verdicts(text, [deployment("one", 1), deployment("two", 2), deployment("unset", None)], tmp_path)
    assert result == {"Deployment/team-a/one": "deny", "Deployment/team-a/two": "allow",
                      "Deployment/team-a/unset": "deny"}
