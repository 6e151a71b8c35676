"""Kyverno detection reads Kyverno's own namespace first: no cluster-wide list of deployments is needed."""

from __future__ import annotations

from typing import Any

import pytest

from patternpolicy.adapters import cluster_facts
from patternpolicy.adapters.kube import KubeError

CONTROLLER = {"metadata": {"name": "kyverno-admission-controller",
                           "labels": {"app.kubernetes.io/component": "admission-controller"}},
              "spec": {"template": {"spec": {"containers": [{"image": "ghcr.io/kyverno/kyverno:v1.17.1"}]}}},
              "status": {"readyReplicas": 1}}


def test_the_controller_is_found_in_its_namespace_without_a_cluster_wide_list(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def get_json(path: str) -> dict[str, Any]:
        asked.append(path)
        if path.startswith("/apis/apps/v1/namespaces/policy-engine/deployments?"):
            return {"items": [CONTROLLER]}
        raise KubeError(f"GET {path}: HTTP 403 forbidden")

    monkeypatch.setattr(cluster_facts, "get_json", get_json)
    monkeypatch.setenv(cluster_facts.KYVERNO_NAMESPACE_ENV, "policy-engine")
    assert cluster_facts._kyverno_controller() == ((1, 17, 1), True)
    assert len(asked) == 1


def test_forbidden_everywhere_means_unknown_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def get_json(path: str) -> dict[str, Any]:
        raise KubeError(f"GET {path}: HTTP 403 forbidden")

    monkeypatch.setattr(cluster_facts, "get_json", get_json)
    assert cluster_facts._kyverno_controller() == (None, None)
