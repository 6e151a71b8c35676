"""Impact of Kyverno ClusterPolicy proposals, and Audit policies reported as reports, not denials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patternpolicy.compile.clusterpolicy import compile_cluster_policy
from patternpolicy.compile.vap import compile_vap
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.models.rules import KindRef, Rule
from patternpolicy.services.enforcement import denies, deny_checks, failure_action
from patternpolicy.services.impact import _run_engine, describe, impact
from patternpolicy.services.impact_targets import Target, in_scope, parse_kind, targets

KINDS = KindCatalog.builtin().kinds
PODS, DEPLOYMENTS = Target("", "v1", "pods"), Target("apps", "v1", "deployments")
NOT_KUBE_SYSTEM = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                         "values": ["kube-system"]}]}


def cluster_policy(match: dict[str, Any], exclude: dict[str, Any] | None = None, action: str | None = "Enforce",
                   spec_action: str | None = None) -> dict[str, Any]:
    validate: dict[str, Any] = {"cel": {"expressions": [{"expression": "'team' in object.metadata.?labels"
                                                                       ".orValue({})"}]}}
    if action:
        validate["failureAction"] = action
    rule = {"name": "team", "match": match, "validate": validate, **({"exclude": exclude} if exclude else {})}
    spec: dict[str, Any] = {"background": True, "rules": [rule]}
    if spec_action:
        spec["validationFailureAction"] = spec_action
    return {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "team"}, "spec": spec}


def generated(failure: str, engine: str) -> list[dict[str, Any]]:
    """What the compilers write for a Pods-and-Deployments rule outside kube-system."""
    pattern = Pattern(ref=PatternRef(name="p", uid="u", generation=1), spec=PatternSpec.model_validate(
        {"description": "Pods must carry the label team",
         "policyGeneration": {"failureAction": failure, "namespaces": {"exclude": ["legacy"]}}}))
    rule = Rule(id="team", description="team label", targets=[
        KindRef(group="", version="v1", kind="Pod", plural="pods"),
        KindRef(group="apps", version="v1", kind="Deployment", plural="deployments")],
        validations=[{"expression": "'team' in object.metadata.?labels.orValue({})", "message": "team"}],
        tests=[])
    if engine == "ClusterPolicy":
        return [compile_cluster_policy(pattern, rule)]
    return compile_vap(pattern, rule)


@pytest.mark.parametrize(("text", "parsed"), [
    ("Pod", (None, None, "Pod", "")),
    ("Pod/exec", (None, None, "Pod", "exec")),
    ("v1/Pod", (None, "v1", "Pod", "")),
    ("v1/Pod/exec", (None, "v1", "Pod", "exec")),
    ("apps/v1/Deployment", ("apps", "v1", "Deployment", "")),
    ("apps/v1/Deployment/scale", ("apps", "v1", "Deployment", "scale")),
])
def test_kyverno_kind_selectors_are_read_in_every_form(text: str, parsed: tuple[Any, ...]) -> None:
    assert parse_kind(text) == parsed


def test_a_generated_cluster_policy_is_evaluated_on_the_kinds_it_names() -> None:
    found = targets(generated("Enforce", "ClusterPolicy"), KINDS)
    assert set(found.found) == {PODS, DEPLOYMENTS} and found.unserved == ()
    selector = found.found[PODS][0]
    assert in_scope("team-a", selector) and not in_scope("legacy", selector) and not in_scope("kube-system", selector)


def test_cluster_policy_match_any_namespaces_and_kind_forms() -> None:
    policy = cluster_policy({"any": [
        {"resources": {"kinds": ["v1/Pod"], "namespaces": ["team-*"]}},
        {"resources": {"kinds": ["apps/v1/Deployment"], "namespaceSelector": NOT_KUBE_SYSTEM}}]})
    found = targets([policy], KINDS).found
    assert set(found) == {PODS, DEPLOYMENTS}
    assert in_scope("team-a", found[PODS][0]) and not in_scope("default", found[PODS][0])
    assert in_scope("default", found[DEPLOYMENTS][0]) and not in_scope("kube-system", found[DEPLOYMENTS][0])


def test_cluster_policy_match_all_takes_the_kinds_every_filter_names_and_every_scope() -> None:
    policy = cluster_policy({"all": [{"resources": {"kinds": ["Pod", "Deployment"]}},
                                     {"resources": {"kinds": ["Pod"], "namespaces": ["web"]}}]})
    found = targets([policy], KINDS).found
    assert list(found) == [PODS]
    assert in_scope("web", found[PODS][0]) and not in_scope("api", found[PODS][0])


def test_simple_excludes_drop_kinds_and_namespaces_and_the_rest_is_left_to_the_engine() -> None:
    match = {"any": [{"resources": {"kinds": ["Pod", "Deployment"]}}]}
    dropped = targets([cluster_policy(match, {"any": [{"resources": {"kinds": ["Deployment"]}},
                                                      {"resources": {"namespaces": ["legacy"]}}]})], KINDS).found
    assert list(dropped) == [PODS] and not in_scope("legacy", dropped[PODS][0]) and in_scope("web", dropped[PODS][0])
    by_name = targets([cluster_policy(match, {"any": [{"resources": {"kinds": ["Deployment"], "names": ["x"]}}]})],
                      KINDS).found
    assert set(by_name) == {PODS, DEPLOYMENTS}  # only the engine knows which Deployments are named x


def test_kinds_the_cluster_does_not_serve_are_named_as_not_evaluated() -> None:
    policy = cluster_policy({"any": [{"resources": {"kinds": ["example.com/v1/Widget", "Pod/exec"]}}]})
    found = targets([policy], KINDS)
    assert found.unserved == ("example.com/v1/Widget",)
    result = impact([policy], lambda group, resource: True, KINDS)
    assert result["result"] == "Skipped"
    assert result["notEvaluated"] == ["pods/exec: pods/exec is a wildcard or a subresource, which is never listed",
                                      "example.com/v1/Widget: not served"]
    assert "not evaluated: kind example.com/v1/Widget is not served" in result["detail"]


@pytest.mark.parametrize(("policies", "action"), [
    (generated("Enforce", "ClusterPolicy"), "Enforce"),
    (generated("Audit", "ClusterPolicy"), "Audit"),
    (generated("Enforce", "ValidatingAdmissionPolicy"), "Enforce"),
    (generated("Audit", "ValidatingAdmissionPolicy"), "Audit"),  # bound with Audit and Warn: nothing denied
    ([cluster_policy({}, action=None, spec_action="Enforce")], "Enforce"),  # before Kyverno 1.13
    ([cluster_policy({}, action=None)], "Audit"),  # Kyverno's default
    ([cluster_policy({}, action="Audit", spec_action="Enforce")], "Audit"),  # the rule's own wins
    ([{"kind": "ValidatingPolicy", "metadata": {"name": "a"}, "spec": {"validationActions": ["Audit"]}},
      {"kind": "ValidatingPolicy", "metadata": {"name": "d"}, "spec": {"validationActions": ["Deny"]}}], "Mixed"),
])
def test_the_failure_action_is_read_from_each_engines_own_field(policies: list[dict[str, Any]], action: str) -> None:
    assert failure_action(policies) == action


def test_a_failed_check_denies_only_under_enforce() -> None:
    checks = deny_checks([{"kind": "ValidatingPolicy", "metadata": {"name": "a"}, "spec": {"validationActions":
                                                                                           ["Audit", "Warn"]}},
                          cluster_policy({})])
    assert not denies(checks, ("a", "a")) and denies(checks, ("team", "team"))
    assert denies(checks, ("team", "autogen-team"))  # a rule the engine named itself: its policy's action


def test_audit_impact_says_reported_never_denied() -> None:
    assert describe([], ["Pod/web/a", "Pod/web/b"], 5, enforcing=False, in_force=False) == (
        "2 of 5 existing object(s) would be reported (Audit: nothing is denied): Pod/web/a, Pod/web/b")
    assert describe([], [], 5, enforcing=False, in_force=False) == (
        "none of 5 existing object(s) would be reported (Audit: nothing is denied)")
    assert describe(["Pod/web/a"], [], 5, enforcing=True, in_force=False) == (
        "1 of 5 existing object(s) would be denied: Pod/web/a")
    assert describe(["Pod/web/a"], [], 5, enforcing=True, in_force=True) == (
        "1 of 5 existing object(s) violate the policies in force (their next create or update is denied): "
        "Pod/web/a")
    assert describe([], ["Pod/web/b"], 5, enforcing=False, in_force=True) == (
        "1 of 5 existing object(s) violate the policies in force, which report them (Audit: nothing is denied): "
        "Pod/web/b")


def pod(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}


def test_the_engine_evaluates_a_cluster_policy_namespace_selector_on_listed_objects(kyverno_cli: Path) -> None:
    """Without the namespaces' labels the CLI matches a ClusterPolicy `In` selector to nothing: 0, always."""
    policy = cluster_policy({"any": [{"resources": {"kinds": ["Pod"], "namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["web"]}]}}}]}, action="Audit")
    failed = _run_engine([policy], [pod("bare", "web", {}), pod("owned", "web", {"team": "a"})])
    assert failed == {"Pod/web/bare": [("team", "team")], "Pod/web/owned": []}
    assert not any(denies(deny_checks([policy]), c) for c in failed["Pod/web/bare"])


def test_an_aged_figure_is_judged_again_only_when_the_objects_changed(kyverno_cli: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The timer lists the objects every interval; the engine runs only when one was created, changed or deleted
    (the listing is the apiserver's in the cluster tier, tests/cluster/test_impact.py)."""
    from patternpolicy.services import impact as impact_module

    policy = cluster_policy({"any": [{"resources": {"kinds": ["Pod"]}}]})
    listed = [pod("bare", "web", {}) | {"metadata": {"name": "bare", "namespace": "web", "resourceVersion": "7"}}]
    runs: list[int] = []

    def counted(policies: list[dict[str, Any]], objects: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
        runs.append(len(objects))
        return _run_engine(policies, objects)

    monkeypatch.setattr(impact_module, "existing_objects", lambda listable: [dict(o) for o in listed])
    monkeypatch.setattr(impact_module, "_run_engine", counted)
    first = impact([policy], allowed=lambda group, plural: True, kinds=KINDS)
    assert (first["wouldDeny"], runs) == (1, [1])
    again = impact([policy], allowed=lambda group, plural: True, kinds=KINDS, previous=first)
    assert again == first and runs == [1], "nothing changed: the engine's verdict stands"
    listed.append(pod("owned", "web", {"team": "a"}) | {
        "metadata": {"name": "owned", "namespace": "web", "labels": {"team": "a"}, "resourceVersion": "9"}})
    grown = impact([policy], allowed=lambda group, plural: True, kinds=KINDS, previous=first)
    assert (grown["wouldDeny"], grown["checked"], runs) == (1, 2, [1, 2])
    listed[0]["metadata"] = {**listed[0]["metadata"], "labels": {"team": "b"}, "resourceVersion": "12"}
    fixed = impact([policy], allowed=lambda group, plural: True, kinds=KINDS, previous=grown)
    assert (fixed["wouldDeny"], runs) == (0, [1, 2, 2])


def test_a_validating_admission_policy_on_a_custom_kind_is_judged(kyverno_cli: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI excludes every custom kind from a ValidatingAdmissionPolicy (it would always say 0): impact judges
    it in its ValidatingPolicy form, with the binding's actions."""
    from patternpolicy.services import impact as impact_module

    vap = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
           "metadata": {"name": "widget-size"},
           "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [{
               "apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
               "resources": ["widgets"]}]},
               "validations": [{"expression": "has(object.spec.size)", "message": "widgets must set spec.size"}]}}
    binding = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
               "metadata": {"name": "widget-size"},
               "spec": {"policyName": "widget-size", "validationActions": ["Deny"]}}

    def widget(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "example.com/v1", "kind": "Widget",
                "metadata": {"name": name, "namespace": "web", "resourceVersion": "1"}, "spec": spec}

    monkeypatch.setattr(impact_module, "existing_objects",
                        lambda listable: [widget("sized", {"size": 3}), widget("unsized", {})])
    kinds = [*KINDS, KindRef(group="example.com", version="v1", kind="Widget", plural="widgets", namespaced=True)]
    result = impact([vap, binding], allowed=lambda group, plural: True, kinds=kinds)
    assert (result["wouldDeny"], result["checked"], result["objects"]) == (1, 2, ["Widget/web/unsized"]), result
    audit = {**binding, "spec": {**binding["spec"], "validationActions": ["Audit"]}}
    reported = impact([vap, audit], allowed=lambda group, plural: True, kinds=kinds)
    assert (reported["wouldDeny"], reported["wouldReport"]) == (0, 1), reported
