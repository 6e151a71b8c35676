"""Kind schemas from the cluster's /openapi/v3, fetched per group-version and refreshed on a TTL."""

from __future__ import annotations

import time

from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.schemas import GVK, KindSchema, openapi_v3_kind_schemas

# A group-version's document is built on first request; for a CRD created a moment ago the
# apiserver may take a while. Better to say "no schema yet" (the operator retries) than to
# hold a pattern's analysis for the default 30 s.
OPENAPI_TIMEOUT = 10.0


class ClusterOpenAPISchemas:
    """A SchemaSource over the live cluster; a CRD change shows up within `ttl` seconds."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._documents: dict[str, tuple[float, dict[GVK, KindSchema]]] = {}

    @staticmethod
    def _path(group: str, version: str) -> str:
        return f"/openapi/v3/apis/{group}/{version}" if group else f"/openapi/v3/api/{version}"

    def _group_version(self, group: str, version: str, fresh: bool = False) -> dict[GVK, KindSchema] | None:
        """The kinds of one group-version's document; None when it could not be fetched."""
        path = self._path(group, version)
        cached = self._documents.get(path)
        if not fresh and cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            kinds = openapi_v3_kind_schemas(get_json(path, timeout=OPENAPI_TIMEOUT))
        except KubeError:
            return None  # not served (yet), or slow: other sources in the chain may know the kind; not cached
        self._documents[path] = (time.monotonic(), kinds)
        return kinds

    def schema_for(self, group: str, version: str, kind: str) -> KindSchema | None:
        kinds = self._group_version(group, version)
        if kinds is None:
            return None
        found = kinds.get(GVK(group, version, kind))
        if found is None:
            # A CRD's schema is published a moment after the kind is served: look again before giving up.
            found = (self._group_version(group, version, fresh=True) or {}).get(GVK(group, version, kind))
        return found

    def invalidate(self) -> None:
        self._documents.clear()
