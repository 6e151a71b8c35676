"""Discovery, the pipeline stage before analysis: which served kinds a pattern is about, and why.

`discover(pattern, catalog)` is called once per pattern by `run_pipeline`; its result goes to
whichever analyser runs and into the pattern's status (`analysis.kindsFound`, `notes`).

It answers at two levels of confidence:

- `named` and `subjects`: what the text certainly governs. The pattern's hints
  (`suggestedResources`) if it has any; otherwise the kinds named in the sentences that state the
  rule and the kinds the capability index finds those sentences describe. The offline analyser
  writes rules on these only.
- `candidates`: a wider list, best first and bounded, for analysers that judge for themselves:
  the above, then kinds named anywhere in the text ("It applies to Pod objects."), kinds the index
  scores about as well as the closest one (siblings), and related kinds (discovery/relations.py):
  kinds whose fields the text speaks of, kinds that refer to a named kind (the pods that use a
  Secret, the bindings that grant a Role), kinds
  whose name's words all occur in the text. Each says why it is there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.relations import Related, composed_kinds, consumers, field_word_kinds
from patternpolicy.discovery.subjects import Subject, Subjects, find_subjects, operative_sentences, subject_text
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import KindRef

# Candidates handed to analysers that judge for themselves: room for a pod rule (Pod and its
# seven controllers) beside the kinds the text names, in a prompt that stays small.
MAX_CANDIDATES = 16


@dataclass(frozen=True)
class Discovery:
    named: tuple[KindRef, ...] = ()  # hints, else the kinds the rule's sentences name
    subjects: Subjects = field(default_factory=Subjects)  # what the capability index found those sentences to be about
    candidates: tuple[Subject, ...] = ()  # the wider list, best first, at most MAX_CANDIDATES
    notes: tuple[str, ...] = ()  # what limited the search, and which sibling was chosen and why

    def kinds(self) -> list[KindRef]:
        return [c.kind for c in self.candidates]

    def kinds_found(self) -> list[str]:
        """For the status and the report: each candidate kind and why it is one."""
        return [c.describe() for c in self.candidates]

    @property
    def note(self) -> str:
        return "; ".join(self.notes)


def discover(pattern: Pattern, catalog: KindCatalog, limit: int = MAX_CANDIDATES) -> Discovery:
    spec = pattern.spec
    hints: list[KindRef] = []
    for hint in spec.suggested_resources:
        kind = catalog.by_kind(hint)
        if kind is not None and kind not in hints:
            hints.append(kind)
    # Kinds named where the rule is stated count; kinds in background sentences
    # ("... of your application or Deployment") do not. The rationale only explains.
    operative = operative_sentences(spec.description)
    named = list(hints)
    if not named:
        for sentence in operative:
            named += [m.kind for m in catalog.mentions(sentence) if m.kind not in named]
    # Hints are the author's own answer to "which kinds"; nothing is searched for then.
    subjects = Subjects() if hints else find_subjects(catalog, operative or [spec.description])

    found = _Candidates(catalog, limit)
    for kind in hints:
        found.add(Subject(kind, "hint", "suggested by the pattern (spec.suggestedResources)"))
    exact = {s.kind: s for s in subjects.found if s.reason == "exact"}
    for kind in named:
        found.add(exact.get(kind) or Subject(kind, "exact", "named in a sentence that states the rule"))
    for subject in subjects.found:
        found.add(subject)
    if not hints:
        # A name several kinds share ("cluster", "bucket") is left to the index, which tells them apart
        # by meaning or names none; it was asked about the rule's sentences above.
        shared = Counter(k.kind for k in catalog.targetable())
        for mention in catalog.mentions(spec.description):
            if shared[mention.kind.kind] == 1:
                found.add(Subject(mention.kind, "exact", f"named in the text as {mention.matched!r}"))
    for subject in subjects.near:
        found.add(subject)
    text = " ".join([spec.description, *spec.triggers])
    related = [*consumers(list(found.kinds)), *field_word_kinds(text),
               *composed_kinds(subject_text([text]), catalog)]
    for item in related:
        found.add_related(item)
    if not found.kinds:
        # A rule that names no kind is most often about workloads ("images must come from ...").
        for kind in _pod_kinds(catalog):
            found.add(Subject(kind, "related", "no kind is named or described: pods and their controllers",
                              score=0.0))
    notes = [why for why in map(catalog.unusable_hint, spec.suggested_resources) if why]
    notes += [subjects.note] if subjects.note else []
    notes += _sibling_notes(subjects)
    return Discovery(tuple(named), subjects, found.result(), tuple(notes))


class _Candidates:
    def __init__(self, catalog: KindCatalog, limit: int) -> None:
        self.catalog = catalog
        self.limit = limit
        self.items: dict[KindRef, Subject] = {}

    @property
    def kinds(self) -> list[KindRef]:
        return list(self.items)

    def add(self, subject: Subject) -> None:
        self.items.setdefault(subject.kind, subject)

    def add_related(self, related: Related) -> None:
        kind = self.catalog.by_kind(related.kind)
        if kind is not None:
            self.add(Subject(kind, "related", related.why, overlap=0.0, score=0.0))

    def result(self) -> tuple[Subject, ...]:
        return tuple(list(self.items.values())[: self.limit])


def _pod_kinds(catalog: KindCatalog) -> list[KindRef]:
    pod = catalog.by_kind("Pod")
    return ([pod] if pod else []) + catalog.pod_controllers()


def _sibling_notes(subjects: Subjects) -> list[str]:
    """Which of the kinds the text describes about equally well the confident search chose, and why."""
    chosen = next((s for s in subjects.found if s.reason in ("semantic", "lexical")), None)
    if chosen is None or not subjects.near:
        return []
    others = ", ".join(f"{s.kind} ({s.score:.2f})" for s in subjects.near)
    return [f"the text describes {chosen.kind} ({chosen.score:.2f}) and {others} about equally well; "
            f"{chosen.kind.kind} scores highest and is the one rules are written for unless the analyser "
            "judges otherwise (all are offered to the Claude analyser)"]
