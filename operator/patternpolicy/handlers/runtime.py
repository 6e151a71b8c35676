"""Process-wide collaborators chosen from the environment (analyser, catalog)."""

from __future__ import annotations

import functools

from patternpolicy.adapters.kube_discovery import CachedCatalog
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.offline import OfflineAnalyzer


@functools.lru_cache(maxsize=1)
def analyzer() -> Analyzer:
    return OfflineAnalyzer()


@functools.lru_cache(maxsize=1)
def catalog() -> CachedCatalog:
    return CachedCatalog()
