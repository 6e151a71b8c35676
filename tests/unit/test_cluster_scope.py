"""Cluster-scoped kinds: samples without a namespace, policies without a namespace selector, suites the CLI runs."""

from __future__ import annotations

from typing import Any

import yaml

from patternpolicy.compile.validatingpolicy import admission_spec
from patternpolicy.models.pattern import parse_pattern_object
from patternpolicy.models.rules import KindRef, Rule, Validation
from patternpolicy.services.pipeline import _placed
from patternpolicy.validate.kyverno_suite import suite_files

SERVER = KindRef(group="dbforpostgresql.azure.upbound.io", version="v1beta2", kind="FlexibleServer",
                 plural="flexibleservers", namespaced=False)
DEPLOYMENT = KindRef(group="apps", version="v1", kind="Deployment", plural="deployments")
NAMESPACE = KindRef(group="", version="v1", kind="Namespace", plural="namespaces", namespaced=False)
PATTERN = parse_pattern_object({
    "apiVersion": "patternpolicy.io/v1alpha1", "kind": "Pattern",
    "metadata": {"name": "p", "uid": "u", "generation": 1},
    "spec": {"description": "Flexible servers must name a resource group.",
             "policyGeneration": {"namespaces": {"include": ["team"]}}}})


def sample(kind: KindRef, namespace: str | None) -> dict[str, Any]:
    meta = {"name": "s", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta}


def test_a_cluster_scoped_sample_has_no_namespace_whatever_was_written() -> None:
    placed = _placed(sample(SERVER, "default"), "team", [SERVER])
    assert placed["metadata"] == {"name": "s"}
    assert _placed(sample(SERVER, "default"), "team", [SERVER], keep=True)["metadata"] == {"name": "s"}


def test_a_namespaced_sample_goes_where_the_policy_applies_unless_the_rule_reads_the_namespace() -> None:
    original = sample(DEPLOYMENT, "default")
    assert _placed(original, "team", [DEPLOYMENT])["metadata"]["namespace"] == "team"
    assert _placed(original, "team", [DEPLOYMENT], keep=True)["metadata"]["namespace"] == "default"
    assert original["metadata"]["namespace"] == "default"  # a copy is placed, not the rule's sample


def rule(*targets: KindRef) -> Rule:
    return Rule(id="r", description="d", targets=list(targets),
                validations=[Validation(expression="true", message="m")])


def test_a_policy_on_cluster_scoped_kinds_alone_has_no_namespace_selector() -> None:
    """The apiserver ignores it for such objects; keeping it would claim a scope the policy does not have."""
    assert "namespaceSelector" not in admission_spec(PATTERN, rule(SERVER))["matchConstraints"]
    assert "namespaceSelector" in admission_spec(PATTERN, rule(SERVER, DEPLOYMENT))["matchConstraints"]
    # Namespaces are matched by their own labels: protected ones stay out.
    assert "namespaceSelector" in admission_spec(PATTERN, rule(NAMESPACE))["matchConstraints"]


def test_a_suite_with_namespace_less_samples_declares_the_namespace_the_cli_puts_them_in() -> None:
    policy = {"apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": {"name": "p-r"}}
    tests = [{"policy": "p-r", "rule": "r", "expect": "allow", "resource": sample(SERVER, None)}]
    values = yaml.safe_load(suite_files("p", [policy], tests)["values.yaml"])
    assert [ns["metadata"] for ns in values["namespaces"]] == [
        {"name": "default", "labels": {"kubernetes.io/metadata.name": "default"}}]
