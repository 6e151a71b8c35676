"""Process-wide collaborators, chosen from the environment when the operator starts."""

from __future__ import annotations

from dataclasses import dataclass

from patternpolicy.adapters.cluster_facts import CachedFacts
from patternpolicy.adapters.cluster_schemas import ClusterOpenAPISchemas
from patternpolicy.adapters.kube_discovery import CachedCatalog
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.schemas import ChainedSchemas, builtin_schemas
from patternpolicy.services.pipeline import FieldCheck
from patternpolicy.validate.field_check import make_field_checker


@dataclass
class Runtime:
    analyzer: Analyzer
    catalog: CachedCatalog
    facts: CachedFacts
    field_check: FieldCheck


def cluster_field_check() -> FieldCheck:
    """The cluster's own OpenAPI first (CRDs included), the bundled built-in schemas as a fallback."""
    return make_field_checker(ChainedSchemas([ClusterOpenAPISchemas(), builtin_schemas()]))


_current = Runtime(analyzer=OfflineAnalyzer(), catalog=CachedCatalog(), facts=CachedFacts(),
                   field_check=cluster_field_check())


def configure(analyzer: Analyzer, field_check: FieldCheck) -> None:
    global _current
    _current = Runtime(analyzer=analyzer, catalog=CachedCatalog(), facts=CachedFacts(), field_check=field_check)


def field_check() -> FieldCheck:
    return _current.field_check


def analyzer() -> Analyzer:
    return _current.analyzer


def catalog() -> CachedCatalog:
    return _current.catalog


def facts() -> CachedFacts:
    return _current.facts
