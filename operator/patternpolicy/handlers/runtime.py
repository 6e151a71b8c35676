"""Process-wide collaborators, chosen from the environment when the operator starts."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import kopf

from patternpolicy.adapters.cluster_facts import cached_facts
from patternpolicy.adapters.cluster_schemas import ClusterOpenAPISchemas
from patternpolicy.adapters.kube import list_crds
from patternpolicy.adapters.kube_discovery import cached_catalog
from patternpolicy.adapters.ttl_cache import TtlCache
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.memo import MemoizedAnalyzer
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.compile.choice import ClusterFacts, choose_engine
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.schemas import ChainedSchemas, SchemaSource, builtin_schemas
from patternpolicy.services import kind_index
from patternpolicy.services.pipeline import FieldCheck
from patternpolicy.validate.field_check import make_field_checker

if TYPE_CHECKING:
    from patternpolicy.discovery.index import CapabilityIndex

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    analyzer: Analyzer
    catalog: TtlCache[KindCatalog]
    facts: TtlCache[ClusterFacts]
    schemas: ClusterOpenAPISchemas
    field_check: FieldCheck
    all_schemas: SchemaSource
    index: CapabilityIndex | None = None


def _runtime(make_analyzer: Callable[[FieldCheck], Analyzer]) -> Runtime:
    schemas = ClusterOpenAPISchemas()
    # The cluster's own OpenAPI first (CRDs included), the bundled built-in schemas as a fallback.
    chain = ChainedSchemas([schemas, builtin_schemas()])
    check = make_field_checker(chain)
    return Runtime(analyzer=MemoizedAnalyzer(make_analyzer(check)), catalog=cached_catalog(), facts=cached_facts(),
                   schemas=schemas, field_check=check, all_schemas=chain)


_current = _runtime(lambda _check: OfflineAnalyzer())


def configure(make_analyzer: Callable[[FieldCheck], Analyzer]) -> None:
    """`make_analyzer` gets the field checker, so a model's answers are checked against the same schemas."""
    global _current
    close_index()
    _current = _runtime(make_analyzer)


def open_index() -> str:
    """Opens the capability index (kept until the process ends); says which model and store, or why none."""
    close_index()
    _current.index, note = kind_index.open_index()
    return note


def close_index() -> None:
    if _current.index is not None:
        _current.index.close()
        _current.index = None


def sync_index() -> None:
    """Every served kind into the index; a restart re-embeds only kinds whose CRD changed meanwhile."""
    if _current.index is not None:
        kind_index.fill(_current.index, _current.catalog.get(), list_crds())


def crd_event(kind: str, crd: Mapping[str, Any]) -> None:
    """A CRD was added, changed or removed: the index follows at once, the rest is re-read on next use."""
    cluster_changed()
    index = _current.index
    if index is not None:
        # A CRD being deleted (deletionTimestamp set) stops serving its kind: drop it now.
        if kind == "DELETED" or (crd.get("metadata") or {}).get("deletionTimestamp"):
            index.remove_crd(dict(crd))
        else:
            index.upsert_crd(dict(crd))


def cluster_changed() -> None:
    """Kinds, schemas and engines are read again on next use."""
    _current.catalog.invalidate()
    _current.facts.invalidate()
    _current.schemas.invalidate()


def resolving_catalog(catalog: KindCatalog) -> KindCatalog:
    """The catalog with the capability index and the schemas attached: for discovery, and for the Claude
    analyser's `look_up_kinds` tool, which answers from the same index and schemas."""
    index = _current.index
    if index is not None:
        missing = kind_index.missing_from(index, catalog)
        if missing:
            # The pattern came before its kinds' CRD events: index them now, or they cannot be found.
            log.info("capability index lacks %d served kind(s) (%s): syncing", len(missing), ", ".join(missing[:5]))
            kind_index.fill(index, catalog, list_crds())
    return catalog.searchable(index, _current.all_schemas)


def index() -> CapabilityIndex | None:
    return _current.index


def field_check() -> FieldCheck:
    return _current.field_check


def analyzer() -> Analyzer:
    return _current.analyzer


def catalog() -> TtlCache[KindCatalog]:
    return _current.catalog


def facts() -> TtlCache[ClusterFacts]:
    return _current.facts


ENGINES = ("auto", "ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy")


def default_engine() -> str:
    """What `engine: auto` means on this installation (PATTERNPOLICY_ENGINE, the chart's `engine` value)."""
    chosen = os.environ.get("PATTERNPOLICY_ENGINE", "auto") or "auto"
    if chosen not in ENGINES:
        raise kopf.PermanentError(f"PATTERNPOLICY_ENGINE={chosen!r} is not one of {', '.join(ENGINES)}")
    return chosen


def engine_in_use(pattern: Mapping[str, Any] | None) -> str | None:
    """The engine the operator uses for this pattern now (None: none is served)."""
    requested = (((pattern or {}).get("spec") or {}).get("policyGeneration") or {}).get("engine") or "auto"
    target = choose_engine(facts().get(), default_engine() if requested == "auto" else requested).target
    return target.engine if target else None
