"""Process-wide collaborators, chosen from the environment when the operator starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from patternpolicy.adapters.cluster_facts import cached_facts
from patternpolicy.adapters.cluster_schemas import ClusterOpenAPISchemas
from patternpolicy.adapters.kube_discovery import cached_catalog
from patternpolicy.adapters.ttl_cache import TtlCache
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.memo import MemoizedAnalyzer
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.compile.choice import ClusterFacts
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.schemas import ChainedSchemas, builtin_schemas
from patternpolicy.services.pipeline import FieldCheck
from patternpolicy.validate.field_check import make_field_checker


@dataclass
class Runtime:
    analyzer: Analyzer
    catalog: TtlCache[KindCatalog]
    facts: TtlCache[ClusterFacts]
    schemas: ClusterOpenAPISchemas
    field_check: FieldCheck


def _runtime(make_analyzer: Callable[[FieldCheck], Analyzer]) -> Runtime:
    schemas = ClusterOpenAPISchemas()
    # The cluster's own OpenAPI first (CRDs included), the bundled built-in schemas as a fallback.
    check = make_field_checker(ChainedSchemas([schemas, builtin_schemas()]))
    return Runtime(analyzer=MemoizedAnalyzer(make_analyzer(check)), catalog=cached_catalog(), facts=cached_facts(),
                   schemas=schemas, field_check=check)


_current = _runtime(lambda _check: OfflineAnalyzer())


def configure(make_analyzer: Callable[[FieldCheck], Analyzer]) -> None:
    """`make_analyzer` gets the field checker, so a model's answers are checked against the same schemas."""
    global _current
    _current = _runtime(make_analyzer)


def cluster_changed() -> None:
    """A CRD was added, changed or removed: kinds, schemas and engines are read again on next use."""
    _current.catalog.invalidate()
    _current.facts.invalidate()
    _current.schemas.invalidate()


def field_check() -> FieldCheck:
    return _current.field_check


def analyzer() -> Analyzer:
    return _current.analyzer


def catalog() -> TtlCache[KindCatalog]:
    return _current.catalog


def facts() -> TtlCache[ClusterFacts]:
    return _current.facts
