"""Reading what the cluster runs: served policy APIs, the Kyverno deployment, webhooks, version."""

from __future__ import annotations

import os
from typing import Any

from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.adapters.ttl_cache import TtlCache
from patternpolicy.compile.choice import ClusterFacts, parse_version


def _served(group: dict[str, Any]) -> list[str]:
    return [v.get("version", "") for v in group.get("versions") or []]


def _has_resource(group_version: str, plural: str) -> bool:
    try:
        listing = get_json(f"/apis/{group_version}")
    except KubeError:
        return False
    return any(r.get("name") == plural for r in listing.get("resources") or [])


KYVERNO_NAMESPACE_ENV = "PATTERNPOLICY_KYVERNO_NAMESPACE"
_KYVERNO_SELECTOR = "labelSelector=app.kubernetes.io%2Fpart-of%3Dkyverno"


def _kyverno_deployments() -> list[dict[str, Any]]:
    """Kyverno's deployments: in its namespace (the operator's Role there allows it), else anywhere the
    operator may list deployments (it is granted no cluster-wide list by default: docs/security.md)."""
    namespace = os.environ.get(KYVERNO_NAMESPACE_ENV, "").strip() or "kyverno"
    for path in (f"/apis/apps/v1/namespaces/{namespace}/deployments", "/apis/apps/v1/deployments"):
        try:
            items = get_json(f"{path}?{_KYVERNO_SELECTOR}").get("items") or []
        except KubeError:
            continue
        if items:
            return list(items)
    return []


def _kyverno_controller() -> tuple[tuple[int, int, int] | None, bool | None]:
    for deployment in _kyverno_deployments():
        meta, spec, status = deployment.get("metadata", {}), deployment.get("spec", {}), deployment.get("status", {})
        labels = meta.get("labels") or {}
        if labels.get("app.kubernetes.io/component") != "admission-controller" and \
                "admission-controller" not in meta.get("name", ""):
            continue
        containers = spec.get("template", {}).get("spec", {}).get("containers") or []
        tag = next((c.get("image", "").rsplit(":", 1)[-1] for c in containers if ":" in c.get("image", "")), "")
        version = parse_version(tag) or parse_version(labels.get("app.kubernetes.io/version", ""))
        return version, int(status.get("readyReplicas") or 0) >= 1
    return None, None


def read_facts() -> ClusterFacts:
    facts = ClusterFacts(kubernetes_version=str(get_json("/version").get("gitVersion", "")))
    groups = {g.get("name"): g for g in get_json("/apis").get("groups") or []}
    if "policies.kyverno.io" in groups:
        facts.validating_policy_versions = [
            v for v in _served(groups["policies.kyverno.io"])
            if _has_resource(f"policies.kyverno.io/{v}", "validatingpolicies")]
    facts.cluster_policy = "kyverno.io" in groups and _has_resource("kyverno.io/v1", "clusterpolicies")
    facts.vap = "v1" in _served(groups.get("admissionregistration.k8s.io", {})) and \
        _has_resource("admissionregistration.k8s.io/v1", "validatingadmissionpolicies")
    facts.kyverno_version, facts.kyverno_ready = _kyverno_controller()
    try:
        hooks = get_json("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations")
        facts.kyverno_webhooks = [h["metadata"]["name"] for h in hooks.get("items") or []
                                  if h["metadata"]["name"].startswith("kyverno-")]
    except KubeError:
        pass
    return facts


def cached_facts(ttl: float = 30.0) -> TtlCache[ClusterFacts]:
    """Engines come and go with CRDs: re-read on CRD events, and at most `ttl` seconds old otherwise."""
    return TtlCache(read_facts, ttl)
