"""A Deployment-only rule whose suite also holds Pod samples: the engine never judges those.

Shared by the engine test that runs it on the real Kyverno CLI and the unit tests that read
the CLI's output as recorded from that run (tests/data/kyverno_test_output/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from patternpolicy.compile.engines import OFFLINE_DEFAULTS, compile_rule
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.models.rules import Rule, Sample, Validation

OUTPUTS = Path(__file__).parents[1] / "data" / "kyverno_test_output"
PATTERN = Pattern(ref=PatternRef(name="limits"), spec=PatternSpec(description="Deployments must set limits"))
CATALOG = KindCatalog.builtin()


def _containers(limits: bool) -> list[dict[str, Any]]:
    container: dict[str, Any] = {"name": "app", "image": "nginx:1.27"}
    if limits:
        container["resources"] = {"limits": {"cpu": "1", "memory": "64Mi"}}
    return [container]


def deployment(name: str, limits: bool) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "a"}},
                     "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": _containers(limits)}}}}


def pod(name: str, limits: bool) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": _containers(limits)}}


def rule(samples: list[Sample]) -> Rule:
    target = CATALOG.by_kind("Deployment")
    assert target is not None
    return Rule(id="require-limits", description="Deployments must set limits", targets=[target],
                validations=[Validation(expression="object.spec.template.spec.containers.all("
                                                   "c, has(c.resources) && has(c.resources.limits))",
                                        message="every container must set limits")],
                samples=samples)


# The Pods carry the verdict the rule would give them, were it to look at Pods.
MIXED = [Sample(resource=deployment("good", True), expect="allow"),
         Sample(resource=deployment("bad", False), expect="deny"),
         Sample(resource=pod("pod-good", True), expect="allow"),
         Sample(resource=pod("pod-bad", False), expect="deny")]
# The only violating sample is a Pod: nothing the engine judged shows the rule denies anything.
PODS_DENY = [Sample(resource=deployment("good", True), expect="allow"),
             Sample(resource=pod("pod-bad", False), expect="deny")]

# The violating Deployment is labelled compliant: the engine disagrees.
WRONG = [Sample(resource=deployment("good", True), expect="allow"),
         Sample(resource=deployment("bad", False), expect="allow"),
         Sample(resource=pod("pod-bad", False), expect="deny")]
CASES = {"mixed": MIXED, "pods-deny": PODS_DENY, "wrong": WRONG}


def suite(engine: str, samples: list[Sample]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(policies, tests) as a proposal holds them."""
    policies = compile_rule(PATTERN, rule(samples), OFFLINE_DEFAULTS[engine])
    tests = [{"policy": policies[0]["metadata"]["name"], "rule": "require-limits", "expect": s.expect,
              "resource": s.resource} for s in samples]
    return policies, tests
