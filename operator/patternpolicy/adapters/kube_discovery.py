"""Served kinds from the cluster's discovery API, as a KindCatalog."""

from __future__ import annotations

from typing import Any

from patternpolicy.adapters.kube import get_json
from patternpolicy.adapters.ttl_cache import TtlCache
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.rules import KindRef


def _get(path: str) -> dict[str, Any]:
    return get_json(path)


def _kinds_in(group: str, version: str, listing: dict[str, Any]) -> list[tuple[KindRef, tuple[str, ...]]]:
    found = []
    for res in listing.get("resources", []):
        if "/" in res.get("name", "") or "create" not in res.get("verbs", []):
            continue  # subresources, and kinds nobody creates, cannot be admitted
        kind = KindRef(group=group, version=version, kind=res["kind"], plural=res["name"],
                       namespaced=bool(res.get("namespaced")))
        found.append((kind, tuple(res.get("shortNames") or ())))
    return found


def discover_catalog() -> KindCatalog:
    entries = _kinds_in("", "v1", _get("/api/v1"))
    for group in _get("/apis").get("groups", []):
        preferred = group.get("preferredVersion", {}).get("groupVersion")
        if not preferred:
            continue
        name, _, version = preferred.partition("/")
        entries += _kinds_in(name, version, _get(f"/apis/{preferred}"))
    return KindCatalog([k for k, _ in entries], {f"{k.group}/{k.kind}": s for k, s in entries})


def cached_catalog(ttl: float = 30.0) -> TtlCache[KindCatalog]:
    """Discovery is cheap but not free; CRD events invalidate it, the TTL bounds staleness otherwise."""
    return TtlCache(discover_catalog, ttl)
