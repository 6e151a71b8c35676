"""One capability-index entry per served kind, built from a CRD or from discovery."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from patternpolicy.discovery.builtin_descriptions import builtin_description
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.crd import CrdKind, crd_kind
from patternpolicy.models.rules import KindRef

# Point ids must be stable across restarts and replicas: a UUID derived from group/kind.
_ID_NAMESPACE = uuid.UUID("3f0c7f7e-2b1a-5c3e-9d4e-6a1b0c2d3e4f")
# Words of a description that go into the embedded text: the opening sentences carry the
# meaning, long schema prose only dilutes it and costs embedding time.
DESCRIPTION_WORDS = 48


def split_camel(name: str) -> str:
    """'FlexibleServer' -> 'flexible server'; 'HTTPRoute' -> 'http route'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return spaced.lower()


# Text in CRD descriptions that says nothing about the kind: links, placeholders, code-generator
# labels and kubebuilder's "X is the Schema for the xs API". Removing it leaves the 64 embedded
# tokens to words that carry meaning.
_NOISE = (
    re.compile(r"https?://\S+"),
    re.compile(r"\{[^{}]*\}"),
    re.compile(r"(?i)\b(generator information|generated from|arm uri|see more details at)\s*:"),
    re.compile(r"[`*]+|\s-\s|/+"),
)


def clean_description(kind: str, plural: str, description: str) -> str:
    text = re.sub(rf"(?i)\b{re.escape(kind)} is the schema for the {re.escape(plural)} api\.?", " ", description)
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def point_id(group: str, kind: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{group}/{kind}"))


@dataclass(frozen=True)
class KindEntry:
    group: str
    kind: str
    plural: str
    versions: tuple[str, ...]  # served versions, preferred first
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.group}/{self.kind}"

    @property
    def id(self) -> str:
        return point_id(self.group, self.kind)

    @property
    def ref(self) -> KindRef:
        return KindRef(group=self.group, version=self.versions[0], kind=self.kind, plural=self.plural,
                       namespaced=self.namespaced)

    def embedding_text(self) -> str:
        """What the semantic index embeds: the name in words, the group, then the description's gist."""
        spaced = split_camel(self.kind)
        head = f"{self.kind} ({spaced})" if spaced != self.kind.lower() else self.kind
        head += f" in API group {self.group}" if self.group else " in the core API"
        group_words = set(re.split(r"[.\-]", self.group))
        categories = [c for c in self.categories if c not in group_words]  # most repeat the group
        if categories:
            head += f", categories {', '.join(categories)}"
        words = clean_description(self.kind, self.plural, self.description).split()
        if not words:
            return head
        return f"{head}: {' '.join(words[:DESCRIPTION_WORDS])}"

    def content_hash(self) -> str:
        """Changes when anything stored for the kind changes (its text, versions, names, scope)."""
        return hashlib.sha256(json.dumps(self._fields(), sort_keys=True).encode("utf-8")).hexdigest()[:16]

    def _fields(self) -> dict[str, Any]:
        return {
            "group": self.group, "kind": self.kind, "plural": self.plural, "versions": list(self.versions),
            "namespaced": self.namespaced, "short_names": list(self.short_names),
            "categories": list(self.categories), "description": self.description,
            "text": self.embedding_text(),  # so a new text format re-embeds after an upgrade
        }

    def to_payload(self) -> dict[str, Any]:
        payload = self._fields()
        payload["content_hash"] = self.content_hash()
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> KindEntry:
        return cls(
            group=str(payload["group"]), kind=str(payload["kind"]), plural=str(payload["plural"]),
            versions=tuple(str(v) for v in payload["versions"]), namespaced=bool(payload.get("namespaced", True)),
            short_names=tuple(str(s) for s in payload.get("short_names", ())),
            categories=tuple(str(c) for c in payload.get("categories", ())),
            description=str(payload.get("description", "")),
        )

    @classmethod
    def from_crd(cls, crd: Mapping[str, Any]) -> KindEntry | None:
        """The kind a CustomResourceDefinition serves, or None when it serves no version."""
        served = crd_kind(crd)
        if served is None:
            return None
        return cls(
            group=served.group, kind=served.kind, plural=served.plural, versions=served.version_names,
            namespaced=served.namespaced, short_names=served.short_names, categories=served.categories,
            description=_crd_description(served),
        )

    @classmethod
    def from_ref(cls, ref: KindRef, short_names: Iterable[str] = (), categories: Iterable[str] = (),
                 description: str = "") -> KindEntry:
        """A kind known from discovery; built-in kinds get their description from the built-in table."""
        return cls(group=ref.group, kind=ref.kind, plural=ref.plural, versions=(ref.version,),
                   namespaced=ref.namespaced, short_names=tuple(short_names), categories=tuple(categories),
                   description=description or builtin_description(ref.group, ref.kind))


def _crd_description(served: CrdKind) -> str:
    # The storage version's schema is the authoritative one; otherwise the first that has a description.
    ordered = sorted(served.versions, key=lambda v: not v.storage)
    for version in ordered:
        text = str((version.schema or {}).get("description") or "").strip()
        if text:
            return text
    return ""


def entries_from_catalog(catalog: KindCatalog) -> list[KindEntry]:
    """Entries for every kind of a discovery catalog, without CRD descriptions (see cluster_entries)."""
    return [KindEntry.from_ref(k, catalog.short_names.get(f"{k.group}/{k.kind}", ())) for k in catalog.kinds]


def cluster_entries(catalog: KindCatalog, crds: Iterable[Mapping[str, Any]]) -> list[KindEntry]:
    """Every served kind for CapabilityIndex.sync: kinds a CRD serves come from the CRD (description,
    categories, all served versions), the others (built-in, aggregated APIs) from discovery."""
    from_crds = {e.key: e for e in (KindEntry.from_crd(c) for c in crds) if e is not None}
    others = [e for e in entries_from_catalog(catalog) if e.key not in from_crds]
    return others + list(from_crds.values())
