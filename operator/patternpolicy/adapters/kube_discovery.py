"""Served kinds from the cluster's discovery API, as a KindCatalog."""

from __future__ import annotations

import logging
from typing import Any

from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.adapters.ttl_cache import TtlCache
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.rules import KindRef

log = logging.getLogger(__name__)


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
    """Every kind served in any version of any group, each in the first version of its group's discovery
    order that serves it: the group's preferred version when it is there, else the next by priority
    (a kind served only in v1 of a group whose other kinds prefer v2 is found, in v1)."""
    entries = _kinds_in("", "v1", _get("/api/v1"))
    for group in _get("/apis").get("groups", []):
        for listed in _versions_in_order(group):
            version = listed.get("version") or listed.get("groupVersion", "").rpartition("/")[2]
            try:
                listing = _get(f"/apis/{listed['groupVersion']}")
            except KubeError as exc:  # an aggregated API that is down (metrics-server): its kinds only
                log.warning("discovery: skipping %s: %s", listed["groupVersion"], exc)
                continue
            entries += _kinds_in(group.get("name", ""), version, listing)
    first: dict[str, tuple[KindRef, tuple[str, ...]]] = {}
    for kind, short in entries:
        first.setdefault(f"{kind.group}/{kind.kind}", (kind, short))
    return KindCatalog([k for k, _ in first.values()], {key: s for key, (_, s) in first.items()})


def _versions_in_order(group: dict[str, Any]) -> list[dict[str, Any]]:
    """The group's versions, preferred first (the apiserver lists them by priority already)."""
    versions = [v for v in group.get("versions") or [] if v.get("groupVersion")]
    preferred = (group.get("preferredVersion") or {}).get("groupVersion")
    return sorted(versions, key=lambda v: v["groupVersion"] != preferred)


def cached_catalog(ttl: float = 30.0) -> TtlCache[KindCatalog]:
    """Discovery is cheap but not free; CRD events invalidate it, the TTL bounds staleness otherwise."""
    return TtlCache(discover_catalog, ttl)
