"""Opening and filling the capability index for kind resolution (operator and CLI alike)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.entries import cluster_entries

if TYPE_CHECKING:
    from patternpolicy.discovery.index import CapabilityIndex

log = logging.getLogger(__name__)


def open_index() -> tuple[CapabilityIndex | None, str]:
    """The configured index (embedded Qdrant by default), or None and why when the extra is not installed."""
    try:
        from patternpolicy.discovery.index import CapabilityIndex
    except ImportError as exc:
        return None, f"no capability index: install patternpolicy with the 'discovery' extra ({exc})"
    index = CapabilityIndex.open()
    return index, index.note


def fill(index: CapabilityIndex, catalog: KindCatalog, crds: Iterable[Mapping[str, Any]]) -> None:
    """Makes the index hold the catalog's kinds; kinds a CRD serves get the CRD's description."""
    report = index.sync(cluster_entries(catalog, crds))
    log.info("capability index: %d kinds (%d added, %d updated, %d removed)", len(index), report.added,
             report.updated, report.removed)


def missing_from(index: CapabilityIndex, catalog: KindCatalog) -> list[str]:
    """Kinds discovery serves that the index does not know yet (a CRD event still on its way)."""
    return [f"{k.group}/{k.kind}" for k in catalog.targetable() if index.get(k.group, k.kind) is None]
