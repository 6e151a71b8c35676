"""Kind schemas, offline and from the cluster, and field-path resolution against them.

Sources answer `schema_for(group, version, kind)`; `resolve` walks a path
(`("spec", "containers", "[]", "image")`) and reports the type found or why
the path does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from patternpolicy.schemas.builtin import (
    DEFAULT_KUBERNETES_VERSION,
    BuiltinSchemas,
    available_versions,
    builtin_schemas,
    pick_version,
)
from patternpolicy.schemas.crd import CrdSchemas, crd_kind_schemas
from patternpolicy.schemas.model import GVK, ChainedSchemas, KindSchema, SchemaError, SchemaSource, StaticSchemas
from patternpolicy.schemas.openapi import OpenAPISchemas, openapi_v3_kind_schemas
from patternpolicy.schemas.resolve import ELEMENT, Resolution, format_path, resolve

__all__ = [
    "DEFAULT_KUBERNETES_VERSION",
    "ELEMENT",
    "GVK",
    "BuiltinSchemas",
    "ChainedSchemas",
    "CrdSchemas",
    "KindSchema",
    "OpenAPISchemas",
    "Resolution",
    "SchemaError",
    "SchemaSource",
    "StaticSchemas",
    "available_versions",
    "builtin_schemas",
    "crd_kind_schemas",
    "format_path",
    "openapi_v3_kind_schemas",
    "pick_version",
    "resolve",
    "schema_source",
]


def schema_source(kubernetes_version: str | None = None,
                  crd_documents: Iterable[Mapping[str, Any]] = (),
                  openapi_documents: Iterable[Mapping[str, Any]] = ()) -> SchemaSource:
    """The usual chain: the cluster's own documents, then CRD files, then the built-in kinds."""
    return ChainedSchemas([OpenAPISchemas.from_documents(openapi_documents),
                           CrdSchemas.from_documents(crd_documents),
                           builtin_schemas(kubernetes_version)])
