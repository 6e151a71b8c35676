"""The analyser interface."""

from __future__ import annotations

from typing import Protocol

from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import Discovery
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Analysis


class Analyzer(Protocol):
    name: str

    def analyze(self, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Analysis:
        """Rules for the pattern, or a decline with a reason a person can act on.

        `discovery` is the discovery stage's answer for this pattern (discovery/stage.py): the kinds it
        is certainly about and a wider list of candidates, each with why. The pipeline records it in
        the analysis (kinds found, notes); analysers need not.
        """
        ...
