"""What every offline detector sees, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from patternpolicy.analysis.offline.claims import Claim
from patternpolicy.analysis.offline.text import PatternText
from patternpolicy.analysis.podspec import pod_kinds
from patternpolicy.discovery.catalog import POD_CONTROLLERS, KindCatalog
from patternpolicy.discovery.stage import Discovery
from patternpolicy.discovery.subjects import Subjects, operative_sentences
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import KindRef, Rule

_POD_WORDS = ("pod", "container", "workload", "image")
# Word overlap a described kind needs before the offline analyser writes a rule on it (the Azure
# examples share 0.5-0.6 of their words with FlexibleServer; pure-meaning matches share none).
DESCRIBED_MIN_OVERLAP = 0.2
__all__ = ["DESCRIBED_MIN_OVERLAP", "Context", "Finding", "operative_sentences"]


@dataclass(frozen=True)
class Context:
    pattern: Pattern
    text: PatternText
    catalog: KindCatalog
    named: tuple[KindRef, ...]  # kinds the pattern names, hints first
    # Every kind the operative sentences are about, named or described, with why (capability index).
    subjects: Subjects = field(default_factory=Subjects)

    @classmethod
    def build(cls, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Context:
        """The confident part of discovery: named kinds and what the index found (not the wider candidates)."""
        text = PatternText(pattern.spec.text())
        return cls(pattern=pattern, text=text, catalog=catalog, named=discovery.named, subjects=discovery.subjects)

    def described(self, confident: bool = True) -> list[KindRef]:
        """Kinds the text describes without naming them (found by meaning, not by name).

        `confident` keeps only kinds that also share words with the text: closeness in meaning
        alone ("validates" ~ ValidatingWebhookConfiguration) is too weak to write a deny rule on.
        """
        return [s.kind for s in self.subjects.found
                if s.reason != "exact" and s.kind not in self.named
                and (not confident or s.reason == "group" or s.overlap >= DESCRIBED_MIN_OVERLAP)]

    def subject_kinds(self, confident: bool = True) -> list[KindRef]:
        """Named kinds, then described ones: what a rule about "the things this pattern is about" targets."""
        return [*self.named, *self.described(confident)]

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
    # What the rules account for in the text, when it depends on the text (else the rule family's claim).
    claim: Claim | None = None
