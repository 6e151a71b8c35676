"""The kinds a pattern's text is about, with why each one was chosen.

Exact names are found by the catalog alone. Kinds a text describes without
naming them ("Azure PostgreSQL" for FlexibleServer.dbforpostgresql.azure.com)
need the capability index; without one, or without its model, the result says
what could not be looked up, so a person reading the status knows why a kind
was missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.rules import KindRef

if TYPE_CHECKING:
    from patternpolicy.discovery.matches import KindMatch

NO_INDEX = "kinds the text describes without naming them were not looked up (no capability index)"

# Field paths and identifiers say which field, not which kind: `spec.backupRetentionDays`
# would otherwise pull in a Backup kind.
# (API group names stay: "kinds of cert-manager.io" names a group.)
_IDENTIFIERS = re.compile(r"\b(?:object\.)?(?:spec|metadata|status|data)(?:\.[\w-]+)+|\b\w*_\w*\b|\b[a-z]+[A-Z]\w*\b")


@dataclass(frozen=True)
class Subject:
    kind: KindRef
    reason: str  # exact, group, semantic or lexical; discovery adds hint, sibling and related
    explanation: str
    overlap: float = 1.0  # words shared with the kind's name and description (0..1)
    score: float = 1.0  # 1.0 for named kinds; the index's score for found ones

    def describe(self) -> str:
        return f"{self.kind}: {self.explanation}"


@dataclass(frozen=True)
class Subjects:
    found: tuple[Subject, ...] = ()
    note: str = ""  # set when the search was degraded (lexical only, or no index)
    near: tuple[Subject, ...] = ()  # siblings of the closest described kind, not chosen (index.SIBLING_MARGIN)

    def kinds(self, *reasons: str) -> list[KindRef]:
        return [s.kind for s in self.found if not reasons or s.reason in reasons]


_OPERATIVE = re.compile(
    r"\b(must|should|shall|require\w*|ensure\w*|validat\w*|prevent\w*|disallow\w*|restrict\w*|forbid\w*|"
    r"block\w*|prohibit\w*|enforce\w*|den(y|ies|ied)|not allowed|only|never|cannot|may not|check\w*)\b", re.I)


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def operative_sentences(text: str) -> list[str]:
    """Sentences that state the rule (a requirement or prohibition), as opposed to background."""
    return [s for s in sentences_of(text) if _OPERATIVE.search(s)]


# "This policy validates ..." is the pattern speaking of itself, not of NetworkPolicy.
_SELF_REFERENCE = re.compile(r"(?i)\b(this|the|these|our) (policy|policies|rule|rules|pattern|check)\b")


def subject_text(sentences: list[str]) -> str:
    text = _IDENTIFIERS.sub(" ", _SELF_REFERENCE.sub(" ", " ".join(sentences)))
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()


def find_subjects(catalog: KindCatalog, sentences: list[str]) -> Subjects:
    """Kinds the sentences are about, in the catalog's versions; [] when they name and describe none."""
    text = subject_text(sentences)
    if catalog.search is None:
        return Subjects((), NO_INDEX)
    if not text:
        return Subjects()
    result = catalog.search.search(text)
    served = {(k.group, k.kind): k for k in catalog.targetable()}

    def subjects(matches: list[KindMatch], reason: str | None = None) -> tuple[Subject, ...]:
        found = []
        for match in matches:
            kind = served.get((match.kind.group, match.kind.kind))
            if kind is not None:  # the index may briefly know a kind discovery no longer serves
                overlap = match.overlap if match.reason in ("semantic", "lexical") else 1.0
                found.append(Subject(kind, reason or match.reason, match.explanation, overlap, match.score))
        return tuple(found)

    note = f"kind search was lexical only: {result.note}" if result.mode == "lexical" else ""
    return Subjects(subjects(result.matches), note, subjects(result.near, "sibling"))
