"""Discovery reads every served version of each group (the cluster tier repeats this on a real apiserver)."""

from __future__ import annotations

from typing import Any

import pytest

from patternpolicy.adapters import kube_discovery
from patternpolicy.adapters.kube import KubeError

GROUPS: dict[str, Any] = {"groups": [
    {"name": "multi.example.io", "preferredVersion": {"groupVersion": "multi.example.io/v2", "version": "v2"},
     "versions": [{"groupVersion": "multi.example.io/v2", "version": "v2"},
                  {"groupVersion": "multi.example.io/v1", "version": "v1"}]},
    {"name": "metrics.k8s.io", "preferredVersion": {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"},
     "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}]},
]}


def resource(name: str, kind: str, namespaced: bool = True) -> dict[str, Any]:
    return {"name": name, "kind": kind, "namespaced": namespaced, "verbs": ["create", "list"]}


PATHS: dict[str, Any] = {
    "/api/v1": {"resources": [resource("pods", "Pod"), resource("pods/status", "Pod")]},
    "/apis": GROUPS,
    "/apis/multi.example.io/v2": {"resources": [resource("widgets", "Widget", namespaced=False)]},
    "/apis/multi.example.io/v1": {"resources": [resource("widgets", "Widget", namespaced=False),
                                                resource("gadgets", "Gadget")]},
}


def fake_get(path: str) -> dict[str, Any]:
    if path not in PATHS:
        raise KubeError(f"GET {path}: HTTP 503 service unavailable")
    found: dict[str, Any] = PATHS[path]
    return found


def test_every_served_version_is_read_and_each_kind_keeps_its_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_discovery, "_get", fake_get)
    catalog = kube_discovery.discover_catalog()
    kinds = {k.kind: k for k in catalog.kinds}
    assert set(kinds) == {"Pod", "Widget", "Gadget"}  # the unavailable metrics API is skipped, not fatal
    assert (kinds["Widget"].version, kinds["Widget"].namespaced) == ("v2", False)  # the preferred version
    assert kinds["Gadget"].api_version == "multi.example.io/v1"  # served only in v1: found there
