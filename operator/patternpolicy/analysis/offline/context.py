"""What every offline detector sees, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from patternpolicy.analysis.offline.text import PatternText
from patternpolicy.analysis.podspec import pod_kinds
from patternpolicy.discovery.catalog import POD_CONTROLLERS, KindCatalog
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import KindRef, Rule

_POD_WORDS = ("pod", "container", "workload", "image")


@dataclass(frozen=True)
class Context:
    pattern: Pattern
    text: PatternText
    catalog: KindCatalog
    named: tuple[KindRef, ...]  # kinds the pattern names, hints first

    @classmethod
    def build(cls, pattern: Pattern, catalog: KindCatalog) -> Context:
        named: list[KindRef] = []
        for hint in pattern.spec.suggested_resources:
            kind = catalog.by_kind(hint)
            if kind is not None and kind not in named:
                named.append(kind)
        if not named:
            # The description names the governed kinds; the rationale only explains.
            for mention in catalog.mentions(pattern.spec.description):
                if mention.kind not in named:
                    named.append(mention.kind)
        text = PatternText(pattern.spec.text())
        return cls(pattern=pattern, text=text, catalog=catalog, named=tuple(named))

    def pod_targets(self) -> list[KindRef] | None:
        """Kinds for a pod-spec rule: the named pod kinds, or all of them; None if it names others."""
        all_pod_kinds = pod_kinds(self.catalog)
        named_pod = [k for k in self.named if k in all_pod_kinds]
        others = [k for k in self.named if k not in all_pod_kinds]
        if others and not named_pod:
            return None
        if not named_pod or any(k.kind == "Pod" for k in named_pod):
            return all_pod_kinds
        return named_pod

    def mentions_pods(self) -> bool:
        return self.text.has(*_POD_WORDS) or any(
            k.kind == "Pod" or k.kind in POD_CONTROLLERS for k in self.named
        )


@dataclass
class Finding:
    """A detector's result: rules, or a reason the intent was seen but cannot be enforced safely."""

    intent: str
    rules: list[Rule] = field(default_factory=list)
    decline: str = ""
