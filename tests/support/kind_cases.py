"""The labelled kind-search cases (tests/data/kind_search_cases.json) as index entries and expectations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.entries import KindEntry, entries_from_catalog

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "kind_search_cases.json"


@dataclass(frozen=True)
class Case:
    text: str
    expected: frozenset[str]  # Kind.group, or Kind for the core group


def crd_manifest(spec: dict[str, Any]) -> dict[str, Any]:
    """A CustomResourceDefinition as the API server returns it, from the compact form in the cases file."""
    versions = [
        {"name": v, "served": True, "storage": i == 0,
         "schema": {"openAPIV3Schema": {"type": "object", "description": spec.get("description", "")}}}
        for i, v in enumerate(spec["versions"])
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{spec['plural']}.{spec['group']}"},
        "spec": {
            "group": spec["group"], "scope": spec.get("scope", "Namespaced"), "versions": versions,
            "names": {"kind": spec["kind"], "plural": spec["plural"], "singular": spec["kind"].lower(),
                      "shortNames": spec.get("short_names", []), "categories": spec.get("categories", [])},
        },
    }


def load() -> tuple[list[KindEntry], list[dict[str, Any]], list[Case]]:
    """Built-in entries, CRD manifests, and the cases."""
    data = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    crds = [crd_manifest(spec) for spec in data["crds"]]
    cases = [Case(c["text"], frozenset(c["expected"])) for c in data["cases"]]
    return entries_from_catalog(KindCatalog.builtin()), crds, cases


def all_entries() -> list[KindEntry]:
    builtin, crds, _ = load()
    return builtin + [e for e in (KindEntry.from_crd(c) for c in crds) if e is not None]
