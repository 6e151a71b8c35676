"""Schemas of custom kinds from CustomResourceDefinition documents (files given to `generate --crds`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from patternpolicy.schemas.model import GVK, KindSchema, StaticSchemas
from patternpolicy.schemas.objectmeta import TYPE_META

_OPEN: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def crd_kind_schemas(document: Mapping[str, Any]) -> dict[GVK, KindSchema]:
    """Every version of one CRD; empty when the document is not a CRD."""
    if document.get("kind") != "CustomResourceDefinition":
        return {}
    spec = document.get("spec") or {}
    group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind")
    if not kind:
        return {}
    name = (document.get("metadata") or {}).get("name") or f"{spec.get('names', {}).get('plural')}.{group}"
    # apiextensions/v1beta1 kept one schema for all versions under spec.validation.
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")
    found: dict[GVK, KindSchema] = {}
    for version in spec.get("versions") or []:
        schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or shared
        found[GVK(group, version.get("name", ""), kind)] = KindSchema(_with_type_meta(schema), {}, f"CRD {name}")
    if not found and spec.get("version"):
        found[GVK(group, spec["version"], kind)] = KindSchema(_with_type_meta(shared), {}, f"CRD {name}")
    return found


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
