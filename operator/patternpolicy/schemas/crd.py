"""Schemas of custom kinds from CustomResourceDefinition documents (files given to `generate --crds`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from patternpolicy.models.crd import crd_kind
from patternpolicy.schemas.model import GVK, KindSchema, StaticSchemas
from patternpolicy.schemas.objectmeta import TYPE_META

_OPEN: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def crd_kind_schemas(document: Mapping[str, Any]) -> dict[GVK, KindSchema]:
    """Every served version of one CRD; empty when the document is not a CRD."""
    served = crd_kind(document)
    if served is None:
        return {}
    return {GVK(served.group, v.name, served.kind): KindSchema(_with_type_meta(v.schema), {}, f"CRD {served.crd_name}")
            for v in served.versions}


def _with_type_meta(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The server adds apiVersion, kind and the full ObjectMeta to every custom resource."""
    if not isinstance(schema, Mapping):
        return dict(_OPEN)  # no schema: the server keeps whatever is sent
    root = dict(schema)
    root["properties"] = {**(schema.get("properties") or {}), **TYPE_META}
    return root


class CrdSchemas(StaticSchemas):
    """A SchemaSource over CRD documents (already parsed from YAML/JSON)."""

    @classmethod
    def from_documents(cls, documents: Iterable[Mapping[str, Any]]) -> CrdSchemas:
        source = cls()
        for document in documents:
            source.add(crd_kind_schemas(document))
        return source
