"""What a schema source hands out: one kind's root schema plus the document its `$ref`s point into."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Json = Mapping[str, Any]


@dataclass(frozen=True)
class GVK:
    group: str
    version: str
    kind: str

    def __str__(self) -> str:
        return f"{self.group}/{self.version}/{self.kind}" if self.group else f"{self.version}/{self.kind}"


@dataclass(eq=False)
class KindSchema:
    """The schema of one kind.

    `document` is what `#/...` references resolve against (a definitions file or an
    OpenAPI document); CRD schemas have no references and use an empty document.
    """

    root: Json
    document: Json = field(default_factory=dict)
    origin: str = ""
    # Resolutions are cached per path: a pod rule asks the same paths for eight kinds, many rules.
    cache: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)


class SchemaSource(Protocol):
    """Anything that can say what (group, version, kind) looks like; None when it does not know the kind."""

    def schema_for(self, group: str, version: str, kind: str) -> KindSchema | None: ...


class SchemaError(Exception):
    """A schema source cannot be built (missing package data, unsupported version, malformed document)."""


class StaticSchemas:
    """A fixed table of kinds (CRDs from files, parsed cluster OpenAPI documents)."""

    def __init__(self, kinds: Mapping[GVK, KindSchema] | None = None) -> None:
        self.kinds: dict[GVK, KindSchema] = dict(kinds or {})

    def schema_for(self, group: str, version: str, kind: str) -> KindSchema | None:
        return self.kinds.get(GVK(group, version, kind))

    def add(self, kinds: Mapping[GVK, KindSchema]) -> None:
        self.kinds.update(kinds)


class ChainedSchemas:
    """Asks each source in turn; earlier sources win (CRD files and the cluster before built-ins)."""

    def __init__(self, sources: Iterable[SchemaSource]) -> None:
        self.sources = list(sources)

    def schema_for(self, group: str, version: str, kind: str) -> KindSchema | None:
        for source in self.sources:
            found = source.schema_for(group, version, kind)
            if found is not None:
                return found
        return None
