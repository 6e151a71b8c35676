"""Least privilege (docs/security.md): impact reads only what an administrator granted the operator and
never Secrets; the sample roles split writing patterns, approving proposals and reading them.

The operator's account is impersonated (the test's admin may impersonate anyone): what it may list
is decided by the real apiserver's RBAC, asked through SelfSubjectAccessReview.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from patternpolicy.adapters import kube
from patternpolicy.services.impact import impact
from tests.support.controlplane import ControlPlane
from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
# An account of its own: other tests install deploy/ and the chart, whose impact reader role is bound
# to patternpolicy-system:patternpolicy and grants more than this test does.
OPERATOR = "system:serviceaccount:least-privilege:patternpolicy"
READER = "patternpolicy-impact-reader-test"
ROOT = Path(__file__).resolve().parents[2]


def team_label_policy(name: str, group: str, plural: str) -> dict[str, Any]:
    return {
        "apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": {"name": name},
        "spec": {"validationActions": ["Deny"],
                 "matchConstraints": {"resourceRules": [{"apiGroups": [group], "apiVersions": ["v1"],
                                                         "operations": ["CREATE", "UPDATE"], "resources": [plural]}]},
                 "validations": [{"expression": "has(object.metadata.labels) && 'team' in object.metadata.labels",
                                  "message": "objects must carry the label team"}]},
    }


def _ignore_conflict(create: Any, *args: Any) -> None:
    try:
        create(*args)
    except ApiException as exc:
        if exc.status != 409:
            raise


@pytest.fixture(scope="module")
def bank(cluster: ControlPlane) -> None:
    """A namespace with a secret, a config map and two deployments, one without the team label."""
    core, apps = client.CoreV1Api(), client.AppsV1Api()
    _ignore_conflict(core.create_namespace, {"metadata": {"name": "bank"}})
    _ignore_conflict(core.create_namespaced_secret, "bank", {"metadata": {"name": "db-creds"},
                                                            "stringData": {"password": "hunter2"}})
    _ignore_conflict(core.create_namespaced_config_map, "bank", {"metadata": {"name": "settings"}, "data": {"a": "b"}})
    for name, labels in (("ledger", {"team": "payments"}), ("legacy", {})):
        _ignore_conflict(apps.create_namespaced_deployment, "bank", {
            "metadata": {"name": name, "labels": {"app": name, **labels}},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}}})


@pytest.fixture
def as_operator(cluster: ControlPlane) -> Iterator[None]:
    """The operator's adapters speak as its ServiceAccount, granted only `list deployments` for impact."""
    rbac = client.RbacAuthorizationV1Api()
    _ignore_conflict(rbac.create_cluster_role, {
        "metadata": {"name": READER},
        "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}]})
    _ignore_conflict(rbac.create_cluster_role_binding, {
        "metadata": {"name": READER},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER},
        "subjects": [{"kind": "ServiceAccount", "name": "patternpolicy", "namespace": "least-privilege"}]})
    api = kube.api_client()
    api.set_default_header("Impersonate-User", OPERATOR)
    try:
        yield
    finally:
        api.default_headers.pop("Impersonate-User", None)
        rbac.delete_cluster_role_binding(READER)
        rbac.delete_cluster_role(READER)


def test_impact_lists_only_what_the_impact_reader_role_grants(bank: None, as_operator: None,
                                                                kyverno_cli: object) -> None:
    policies = [team_label_policy("deployments-team", "apps", "deployments"),
                team_label_policy("configmaps-team", "", "configmaps"),
                team_label_policy("secrets-team", "", "secrets")]
    result = eventually(lambda: (r := impact(policies)) and "wouldDeny" in r and r,
                        what="impact as the operator (RBAC caches settle)")
    assert result["objects"] == ["Deployment/bank/legacy"], result
    assert (result["wouldDeny"], result["checked"]) == (1, 2)
    assert result["notEvaluated"] == [
        "configmaps: the operator may not list configmaps (grant it through the impact reader role)",
        "secrets: secret data is not read"]
    assert result["detail"].endswith(
        "; not evaluated: secret data is not read; not evaluated: the operator may not list configmaps "
        "(grant it through the impact reader role)")


def test_a_pattern_about_secrets_never_gets_their_names_or_data(api: client.CustomObjectsApi, bank: None,
                                                                operator: KopfRunner) -> None:
    """The issue's reproduction: the operator runs with full rights here, and still reads no Secret."""
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "secrets-team"},
        "spec": {"description": "Secrets must carry the label `team`."}})
    proposal = eventually(lambda: (p := get_or_none(api, G, V, "policyproposals", "secrets-team-g1"))
                          and (p.get("status") or {}).get("phase") and p, timeout=90, what="proposal validated")
    assert proposal["status"]["phase"] == "Pending", proposal["status"]
    impact = proposal["status"]["validation"]["impact"]
    # What the figure was computed for and when (checkedAt, engine, ...) aside, nothing but the refusal.
    assert {k: impact[k] for k in ("result", "detail", "notEvaluated")} == {
        "result": "Skipped", "detail": "not evaluated: secret data is not read",
        "notEvaluated": ["secrets: secret data is not read"]}
    assert not {"objects", "checked", "wouldDeny"} & set(impact) and "wouldDeny" not in proposal["status"]
    text = json.dumps(proposal)
    assert "db-creds" not in text and "hunter2" not in text
    api.delete_cluster_custom_object(G, V, "patterns", "secrets-team")


def _may(api_client: client.ApiClient, verb: str, resource: str, group: str = G) -> bool:
    review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
        resource_attributes=client.V1ResourceAttributes(verb=verb, group=group, resource=resource)))
    answer = client.AuthorizationV1Api(api_client).create_self_subject_access_review(review)
    return bool(answer.status.allowed)


@pytest.mark.parametrize(("group", "allowed", "denied"), [
    ("patternpolicy:authors", [("create", "patterns"), ("delete", "patterns"), ("list", "policyproposals")],
     [("patch", "policyproposals"), ("update", "policyproposals")]),
    ("patternpolicy:approvers", [("patch", "policyproposals"), ("list", "patterns")],
     [("create", "patterns"), ("create", "policyproposals")]),
    ("patternpolicy:readers", [("list", "patterns"), ("watch", "policyproposals")],
     [("patch", "policyproposals"), ("create", "patterns")]),
])
def test_the_sample_roles_split_writing_approving_and_reading(cluster: ControlPlane, group: str,
                                                              allowed: list[tuple[str, str]],
                                                              denied: list[tuple[str, str]]) -> None:
    rbac = client.RbacAuthorizationV1Api()
    for path in sorted((ROOT / "examples" / "rbac").glob("*.yaml")):
        for doc in (d for d in yaml.safe_load_all(path.read_text()) if d):
            create = rbac.create_cluster_role if doc["kind"] == "ClusterRole" else rbac.create_cluster_role_binding
            _ignore_conflict(create, doc)
    cfg = client.Configuration()
    config.load_kube_config(str(cluster.kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as person:
        person.set_default_header("Impersonate-User", "someone")
        person.set_default_header("Impersonate-Group", group)
        assert eventually(lambda: all(_may(person, v, r) for v, r in allowed), what=f"{group} allowed {allowed}")
        assert not any(_may(person, v, r) for v, r in denied)
        assert not _may(person, "get", "secrets", group="")  # nothing outside patternpolicy.io
