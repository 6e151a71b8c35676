"""What a capability-index search returns, and the text helpers its ranking uses (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from patternpolicy.discovery.entries import KindEntry, split_camel
from patternpolicy.models.rules import KindRef

# Texts longer than one sentence are also searched sentence by sentence: a pattern's
# operative sentence matches its kind better than the whole paragraph does.
MAX_SENTENCES = 8

Reason = Literal["exact", "group", "semantic", "lexical"]
Mode = Literal["hybrid", "lexical"]


@dataclass(frozen=True)
class KindMatch:
    entry: KindEntry
    reason: Reason
    score: float  # 1.0 for exact and group matches; cosine (plus weighted word overlap) or overlap otherwise
    evidence: str  # the words that named it, or the text it was semantically close to
    detail: str = ""  # how a shared name was resolved, or what a semantic score is made of
    overlap: float = 0.0  # word overlap (0..1) with the kind's name and description: evidence beyond meaning

    @property
    def kind(self) -> KindRef:
        return self.entry.ref

    @property
    def explanation(self) -> str:
        if self.reason == "exact":
            return f"named in the text as {self.evidence!r}" + (f" ({self.detail})" if self.detail else "")
        if self.reason == "group":
            return f"its API group {self.entry.group} is named in the text"
        if self.reason == "semantic":
            return f"similar in meaning to {self.evidence!r}: score {self.score:.2f} ({self.detail})"
        return f"shares the words {self.evidence} with its name or description (overlap {self.score:.2f})"


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    note: str  # which model and store answered, or why the search was lexical only
    threshold: float
    matches: list[KindMatch] = field(default_factory=list)
    # Siblings of the closest similar kind (same API group, within SIBLING_MARGIN), best first.
    near: list[KindMatch] = field(default_factory=list)

    def kinds(self) -> list[KindRef]:
        return [m.kind for m in self.matches]

    def keys(self) -> list[str]:
        return [m.entry.key for m in self.matches]


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    removed: int
    unchanged: int


def _sentences(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[.!?;])\s+|\n+", text) if len(p.strip()) > 3]
    return parts[:MAX_SENTENCES] if len(parts) > 1 else []


@dataclass(frozen=True)
class _Fused:
    score: float
    cosine: float
    overlap: float
    query: str


def _without(text: str, phrases: list[str]) -> str:
    """The text with the named phrases removed ('resource group' also removes 'ResourceGroups')."""
    for phrase in phrases:
        pattern = r"\s*".join(re.escape(word) for word in phrase.split())
        text = re.sub(rf"(?i)\b{pattern}\w*", " ", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()


def _child_words(child: KindEntry, parent: KindEntry, text: str) -> bool:
    """Whether `child` is a child kind of `parent` whose own words the text does not use."""
    # Only the plural joint marks a child kind (FlexibleServer|s|Database); ClusterRole|Binding
    # is a different thing, not a part of a ClusterRole.
    joint = child.kind[len(parent.kind):len(parent.kind) + 2]
    if (parent.group != child.group or not child.kind.startswith(parent.kind) or len(joint) < 2
            or joint[0] != "s" or not joint[1].isupper()):
        return False
    words = split_camel(child.kind[len(parent.kind) + 1:]).split()
    return bool(words) and not any(re.search(rf"(?i)\b{re.escape(w)}(s|es)?\b", text) for w in words)
