"""The kind a CustomResourceDefinition serves, read once for every caller.

Discovery, the capability index, `generate --crds` and the CRD schema source all
ask the same question of a CRD: which versions does it serve, which one does a
client use by default, which one is stored. They get one answer here, ordered
the way the apiserver orders them (its discovery lists the preferred version first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from patternpolicy.models.rules import KindRef

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STAGES = {"alpha": 1, "beta": 2, "": 3}


def version_order(version: str) -> tuple[int, int, int, int, str]:
    """Sort key of Kubernetes' version priority (apimachinery CompareKubeAwareVersionStrings):
    GA before beta before alpha, higher major then higher minor first; versions that do not look like
    Kubernetes versions (`v1api20221201`) after all of those, alphabetically."""
    match = _KUBE_VERSION.match(version)
    if not match:
        return (1, 0, 0, 0, version)
    major, stage, minor = match.groups()
    return (0, -_STAGES[stage or ""], -int(major), -int(minor or 0), "")


@dataclass(frozen=True)
class ServedVersion:
    name: str
    storage: bool
    schema: Mapping[str, Any] | None  # the version's openAPIV3Schema (or the CRD-wide one of v1beta1 CRDs)


@dataclass(frozen=True)
class CrdKind:
    """One CRD's kind with every version it serves, preferred first."""

    crd_name: str
    group: str
    kind: str
    plural: str
    namespaced: bool
    versions: tuple[ServedVersion, ...]  # served only; never empty
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def preferred(self) -> ServedVersion:
        """What clients (and the generated policies and samples) use: the highest-priority served version."""
        return self.versions[0]

    @property
    def storage(self) -> ServedVersion | None:
        """The stored version, when it is served; its schema is the authoritative description."""
        return next((v for v in self.versions if v.storage), None)

    @property
    def version_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.versions)

    def ref(self, version: str | None = None) -> KindRef:
        return KindRef(group=self.group, version=version or self.preferred.name, kind=self.kind,
                       plural=self.plural, namespaced=self.namespaced)


def crd_kind(document: Mapping[str, Any]) -> CrdKind | None:
    """The kind a CRD document serves; None when it is not a CRD or serves no version."""
    # Items of a list from the apiserver carry no kind of their own: absent means a CRD here.
    if document.get("kind", "CustomResourceDefinition") != "CustomResourceDefinition":
        return None
    spec = document.get("spec") or {}
    names = spec.get("names") or {}
    kind = names.get("kind")
    if not kind:
        return None
    group = str(spec.get("group", ""))
    plural = str(names.get("plural") or kind.lower() + "s")
    # apiextensions/v1beta1 kept one schema (and possibly one version) for the whole CRD.
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")
    listed = spec.get("versions") or ([{"name": spec["version"], "served": True, "storage": True}]
                                      if spec.get("version") else [])
    served = [
        ServedVersion(name=str(v.get("name", "")), storage=bool(v.get("storage", False)),
                      schema=((v.get("schema") or {}).get("openAPIV3Schema")) or shared)
        for v in listed if v.get("served", True) and v.get("name")
    ]
    if not served:
        return None
    return CrdKind(
        crd_name=str((document.get("metadata") or {}).get("name") or f"{plural}.{group}"),
        group=group, kind=str(kind), plural=plural,
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        versions=tuple(sorted(served, key=lambda v: version_order(v.name))),
        short_names=tuple(str(s) for s in names.get("shortNames") or ()),
        categories=tuple(str(c) for c in names.get("categories") or ()),
    )
