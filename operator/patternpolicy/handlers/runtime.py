"""Process-wide collaborators, chosen from the environment when the operator starts."""

from __future__ import annotations

from dataclasses import dataclass

from patternpolicy.adapters.kube_discovery import CachedCatalog
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.offline import OfflineAnalyzer


@dataclass
class Runtime:
    analyzer: Analyzer
    catalog: CachedCatalog


_current = Runtime(analyzer=OfflineAnalyzer(), catalog=CachedCatalog())


def configure(analyzer: Analyzer) -> None:
    global _current
    _current = Runtime(analyzer=analyzer, catalog=CachedCatalog())


def analyzer() -> Analyzer:
    return _current.analyzer


def catalog() -> CachedCatalog:
    return _current.catalog
