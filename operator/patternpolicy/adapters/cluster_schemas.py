"""Kind schemas from the cluster's /openapi/v3, fetched per group-version and refreshed on a TTL."""

from __future__ import annotations

import time

from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.schemas import GVK, KindSchema, openapi_v3_kind_schemas


class ClusterOpenAPISchemas:
    """A SchemaSource over the live cluster; a CRD change shows up within `ttl` seconds."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._documents: dict[str, tuple[float, dict[GVK, KindSchema]]] = {}

    def _group_version(self, group: str, version: str) -> dict[GVK, KindSchema]:
        path = f"/openapi/v3/apis/{group}/{version}" if group else f"/openapi/v3/api/{version}"
        cached = self._documents.get(path)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            kinds = openapi_v3_kind_schemas(get_json(path))
        except KubeError:
            return {}  # not served (yet): other sources in the chain may know the kind; not cached
        self._documents[path] = (time.monotonic(), kinds)
        return kinds

    def schema_for(self, group: str, version: str, kind: str) -> KindSchema | None:
        found = self._group_version(group, version).get(GVK(group, version, kind))
        if found is None:
            # A CRD's schema is published a moment after the kind is served: look again before giving up.
            self._documents.pop(f"/openapi/v3/apis/{group}/{version}" if group else f"/openapi/v3/api/{version}", None)
            found = self._group_version(group, version).get(GVK(group, version, kind))
        return found

    def invalidate(self) -> None:
        self._documents.clear()
