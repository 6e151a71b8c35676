"""Process-wide collaborators, chosen from the environment when the operator starts."""

from __future__ import annotations

from dataclasses import dataclass

from patternpolicy.adapters.cluster_facts import CachedFacts
from patternpolicy.adapters.kube_discovery import CachedCatalog
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.offline import OfflineAnalyzer


@dataclass
class Runtime:
    analyzer: Analyzer
    catalog: CachedCatalog
    facts: CachedFacts


_current = Runtime(analyzer=OfflineAnalyzer(), catalog=CachedCatalog(), facts=CachedFacts())


def configure(analyzer: Analyzer) -> None:
    global _current
    _current = Runtime(analyzer=analyzer, catalog=CachedCatalog(), facts=CachedFacts())


def analyzer() -> Analyzer:
    return _current.analyzer


def catalog() -> CachedCatalog:
    return _current.catalog


def facts() -> CachedFacts:
    return _current.facts
