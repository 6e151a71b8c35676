"""One analysis per Pattern generation, even when later stages ask to retry."""

from __future__ import annotations

from collections import OrderedDict

from patternpolicy.analysis.base import Analyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import Discovery
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Analysis
from patternpolicy.validate.field_check import NO_SCHEMA


class MemoizedAnalyzer:
    """Remembers the answer for (uid, generation): a retry after a transient problem elsewhere
    (a schema not yet published, an API hiccup) must not pay for, or change, the analysis."""

    def __init__(self, inner: Analyzer, size: int = 512) -> None:
        self.inner = inner
        self.name = inner.name
        self._answers: OrderedDict[tuple[str, str, int], Analysis] = OrderedDict()
        self._size = size

    def analyze(self, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Analysis:
        key = (pattern.ref.name, pattern.ref.uid, pattern.ref.generation)
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        answer = self.inner.analyze(pattern, catalog, discovery)
        if NO_SCHEMA in answer.reason:
            return answer  # made without a schema the cluster had not published yet: not final
        self._answers[key] = answer
        if len(self._answers) > self._size:
            self._answers.popitem(last=False)
        return answer
