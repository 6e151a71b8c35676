"""Schemas of whatever a cluster serves, from its OpenAPI v3 documents.

The API server publishes one document per group-version at
`/openapi/v3/apis/<group>/<version>` (`/openapi/v3/api/v1` for the core group),
each self-contained: `components.schemas` holds every definition its kinds
reference, and kinds are marked with `x-kubernetes-group-version-kind`. Fetching
is the caller's business; this module only reads the parsed JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from patternpolicy.schemas.model import GVK, KindSchema, SchemaError, StaticSchemas


def openapi_v3_kind_schemas(document: Mapping[str, Any], origin: str = "cluster OpenAPI v3") -> dict[GVK, KindSchema]:
    """Every kind one OpenAPI v3 document defines; its `$ref`s resolve within the same document."""
    components = document.get("components")
    schemas = components.get("schemas") if isinstance(components, Mapping) else None
    if not isinstance(schemas, Mapping):
        raise SchemaError("not an OpenAPI v3 document: no components.schemas")
    found: dict[GVK, KindSchema] = {}
    for name, schema in schemas.items():
        if not isinstance(schema, Mapping):
            continue
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            key = GVK(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
            # Shared kinds (DeleteOptions, WatchEvent) are tagged with every group; the document's own wins.
            if key not in found or _is_own(name, key):
                found[key] = KindSchema({"$ref": f"#/components/schemas/{_escape(name)}"}, document, origin)
    return found


class OpenAPISchemas(StaticSchemas):
    """A SchemaSource over one or more parsed cluster OpenAPI v3 documents."""

    @classmethod
    def from_documents(cls, documents: Iterable[Mapping[str, Any]]) -> OpenAPISchemas:
        source = cls()
        for document in documents:
            source.add(openapi_v3_kind_schemas(document))
        return source


def _is_own(name: str, key: GVK) -> bool:
    return name.endswith(f".{key.version}.{key.kind}")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
