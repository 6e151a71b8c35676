"""Samples of different kinds that share a name, in one Kyverno CLI suite (issue 9, item 5).

`kyverno test` matches expected results to resources by name alone: a Pod and a Deployment both
called `shared` were each checked against the other's verdict too ("Want fail, got pass" for a
correct rule). The suite writer gives every sample a name of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.adapters.kyverno_cli import run_suite
from patternpolicy.analysis.podspec import POD_VARIABLES
from patternpolicy.compile.engines import OFFLINE_DEFAULTS, compile_rule
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.models.rules import Rule, Sample, Validation
from patternpolicy.validate.kyverno_suite import suite_files

pytestmark = pytest.mark.engine
CATALOG = KindCatalog.builtin()


def pod_spec(host_network: bool) -> dict[str, Any]:
    return {"hostNetwork": host_network, "containers": [{"name": "app", "image": "nginx:1.27"}]}


def rule() -> Rule:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shared", "namespace": "default"},
           "spec": pod_spec(True)}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "shared", "namespace": "default"},
                  "spec": {"selector": {"matchLabels": {"app": "a"}},
                           "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod_spec(False)}}}
    targets = [k for k in (CATALOG.by_kind("Pod"), CATALOG.by_kind("Deployment")) if k is not None]
    return Rule(id="no-host-network", description="pods must not use the host network", targets=targets,
                variables=POD_VARIABLES,
                validations=[Validation(expression="!has(variables.podSpec.hostNetwork) || "
                                                   "!variables.podSpec.hostNetwork",
                                        message="hostNetwork is not allowed")],
                samples=[Sample(resource=pod, expect="deny"), Sample(resource=deployment, expect="allow")])


@pytest.mark.parametrize("engine", ["ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"])
def test_a_pod_and_a_deployment_of_one_name_keep_their_own_verdicts(engine: str, tmp_path: Path,
                                                                    kyverno_cli: Path) -> None:
    pattern = Pattern(ref=PatternRef(name="hostnet"), spec=PatternSpec(description="No host network for pods"))
    policies = compile_rule(pattern, rule(), OFFLINE_DEFAULTS[engine])
    tests = [{"policy": policies[0]["metadata"]["name"], "rule": "no-host-network", "expect": s.expect,
              "resource": s.resource} for s in rule().samples]
    for name, content in suite_files("hostnet", policies, tests).items():
        (tmp_path / name).write_text(content)

    resources = list(yaml.safe_load_all((tmp_path / "resources.yaml").read_text()))
    assert [(r["kind"], r["metadata"]["name"]) for r in resources] == [("Pod", "shared"),
                                                                       ("Deployment", "shared-deployment")]
    results = yaml.safe_load((tmp_path / "kyverno-test.yaml").read_text())["results"]
    assert {(r["kind"], tuple(r["resources"]), r["result"]) for r in results} == {
        ("Pod", ("shared",), "fail"), ("Deployment", ("shared-deployment",), "pass")}
    run = run_suite(tmp_path)
    assert run.passed, run.failures


def test_a_compliant_and_a_violating_sample_of_one_kind_and_name_keep_their_verdicts(tmp_path: Path,
                                                                                     kyverno_cli: Path) -> None:
    """Seen in recorded model answers: compliant and violating HorizontalPodAutoscaler both called `web`."""
    pattern = Pattern(ref=PatternRef(name="hostnet"), spec=PatternSpec(description="No host network for pods"))
    allowed = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
               "spec": pod_spec(False)}
    denied = {**allowed, "spec": pod_spec(True)}
    base = rule()
    same_name = base.model_copy(update={"samples": [Sample(resource=allowed, expect="allow"),
                                                    Sample(resource=denied, expect="deny")]})
    policies = compile_rule(pattern, same_name, OFFLINE_DEFAULTS["ValidatingPolicy"])
    tests = [{"policy": policies[0]["metadata"]["name"], "rule": "no-host-network", "expect": s.expect,
              "resource": s.resource} for s in same_name.samples]
    for name, content in suite_files("hostnet", policies, tests).items():
        (tmp_path / name).write_text(content)
    resources = list(yaml.safe_load_all((tmp_path / "resources.yaml").read_text()))
    assert [r["metadata"]["name"] for r in resources] == ["web", "web-pod"]
    run = run_suite(tmp_path)
    assert run.passed, run.failures
