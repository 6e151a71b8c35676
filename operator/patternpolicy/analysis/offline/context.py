"""What every offline detector sees, and what it returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from patternpolicy.analysis.offline.text import PatternText
from patternpolicy.analysis.podspec import pod_kinds
from patternpolicy.discovery.catalog import POD_CONTROLLERS, KindCatalog
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import KindRef, Rule

_POD_WORDS = ("pod", "container", "workload", "image")
_OPERATIVE = re.compile(
    r"\b(must|should|shall|require\w*|ensure\w*|validat\w*|prevent\w*|disallow\w*|restrict\w*|forbid\w*|"
    r"block\w*|prohibit\w*|enforce\w*|den(y|ies|ied)|not allowed|only|never|cannot|may not|check\w*)\b", re.I)


def operative_sentences(text: str) -> list[str]:
    """Sentences that state the rule (a requirement or prohibition), as opposed to background."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
    return [s for s in sentences if _OPERATIVE.search(s)]


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
            # Kinds named where the rule is stated count; kinds in background sentences
            # ("... of your application or Deployment") do not. The rationale only explains.
            for sentence in operative_sentences(pattern.spec.description):
                for mention in catalog.mentions(sentence):
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
