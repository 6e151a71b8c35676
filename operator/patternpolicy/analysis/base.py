"""The analyser interface."""

from __future__ import annotations

from typing import Protocol

from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Analysis


class Analyzer(Protocol):
    name: str

    def analyze(self, pattern: Pattern, catalog: KindCatalog) -> Analysis:
        """Rules for the pattern, or a decline with a reason a person can act on."""
        ...
