"""Impact reads only what the operator was granted, and never Secrets (the cluster tier lists for real)."""

from __future__ import annotations

from typing import Any

from patternpolicy.services.impact import _names, impact, refusal
from patternpolicy.services.impact_targets import Target, targets


def policy(*rules: tuple[str, str, str]) -> dict[str, Any]:
    return {"kind": "ValidatingPolicy", "metadata": {"name": "p"}, "spec": {"matchConstraints": {
        "resourceRules": [{"apiGroups": [g], "apiVersions": [v], "operations": ["CREATE"], "resources": [r]}
                          for g, v, r in rules],
        "namespaceSelector": {}}}}


def everything(group: str, resource: str) -> bool:
    return True


def nothing(group: str, resource: str) -> bool:
    return False


def test_secrets_are_never_read_whatever_rbac_allows() -> None:
    asked: list[tuple[str, str]] = []

    def allowed(group: str, resource: str) -> bool:
        asked.append((group, resource))
        return True

    result = impact([policy(("", "v1", "secrets"))], allowed)
    assert result == {"result": "Skipped", "detail": "not evaluated: secret data is not read",
                      "notEvaluated": ["secrets: secret data is not read"]}
    assert asked == []  # not even asked: no grant makes the operator read them


def test_a_kind_the_operator_may_not_list_is_named_with_the_remedy() -> None:
    result = impact([policy(("dbforpostgresql.azure.upbound.io", "v1beta1", "flexibleservers"),
                            ("", "v1", "configmaps"))], nothing)
    assert result["result"] == "Skipped"
    assert result["detail"] == (
        "not evaluated: the operator may not list configmaps (grant it through the impact reader role); "
        "not evaluated: the operator may not list flexibleservers.dbforpostgresql.azure.upbound.io "
        "(grant it through the impact reader role)")
    assert "wouldDeny" not in result and "objects" not in result


def test_wildcards_and_subresources_are_never_listed() -> None:
    assert refusal(Target("*", "*", "*"), everything) == "*.* is a wildcard or a subresource, which is never listed"
    assert refusal(Target("", "v1", "pods/status"), everything) is not None
    assert refusal(Target("", "v1", "secrets/status"), everything) == "secret data is not read"
    assert refusal(Target("apps", "v1", "deployments"), everything) is None


def test_targets_keep_every_policys_namespace_selector() -> None:
    first, second = policy(("apps", "v1", "deployments")), policy(("apps", "v1", "deployments"))
    second["spec"]["matchConstraints"]["namespaceSelector"] = {"matchLabels": {"team": "a"}}
    assert targets([first, second]).found == {
        Target("apps", "v1", "deployments"): [{}, {"matchLabels": {"team": "a"}}]}


def test_policies_that_match_nothing_listable_are_not_evaluated() -> None:
    result = impact([{"kind": "ClusterPolicy", "spec": {"rules": []}}], everything)
    assert result["result"] == "Skipped" and result["detail"].startswith("not evaluated:")


def test_cluster_scoped_objects_are_named_without_the_namespace_the_engine_gives_them() -> None:
    objects = [{"kind": "FlexibleServer", "metadata": {"name": "orphan"}},
               {"kind": "Deployment", "metadata": {"name": "api", "namespace": "default"}}]
    names = _names(objects)
    assert names["FlexibleServer/default/orphan"] == names["FlexibleServer//orphan"] == "FlexibleServer/orphan"
    assert names["Deployment/default/api"] == "Deployment/default/api"
