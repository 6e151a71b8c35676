"""Word-overlap scoring of kinds against pattern text, for when no embedding model is available.

TF-IDF cosine between the text's words and each kind's words, where a kind's
name counts three times, its group twice and its description once: a kind is
found by the words of its name first. Query words of five letters or more also
match inside a group's words ("postgresql" in "dbforpostgresql").
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from patternpolicy.discovery.entries import KindEntry, split_camel

# Grammar words, and the words in nearly every group name, carry no kind.
_STOPWORDS = frozenset({
    "a", "an", "and", "any", "are", "as", "at", "be", "by", "can", "do", "does", "each", "every", "for", "from",
    "has", "have", "in", "into", "is", "it", "its", "may", "must", "need", "no", "non", "not", "of", "on",
    "only", "or", "our", "should", "so", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "to", "use", "used", "using", "via", "was", "were", "which", "while",
    "will", "with", "within", "without", "all", "also", "always", "never", "kubernetes", "k8s", "io", "com",
    "org", "net",
})
_WEIGHTS = {"name": 3, "group": 2, "description": 1}


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lowercase content words, singular; a camelCase word counts whole and by its parts:
    'PostgreSQL ResourceGroups' -> ['postgresql', 'postgre', 'sql', 'resourcegroup', 'resource', 'group']."""
    out: list[str] = []
    for token in re.findall(r"[A-Za-z0-9]+", text):
        parts = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", token).lower().split()
        for word in dict.fromkeys([token.lower(), *parts] if len(parts) > 1 else parts):
            if word not in _STOPWORDS and len(word) > 1:
                out.append(_singular(word))
    return out


@functools.lru_cache(maxsize=65536)  # entries are immutable: after a CRD change only it is re-read
def _entry_bag(entry: KindEntry) -> tuple[Counter[str], frozenset[str]]:
    bag: Counter[str] = Counter()
    fields = {
        "name": [*words(split_camel(entry.kind)), entry.kind.lower(), _singular(entry.plural), *entry.short_names],
        "group": [p for p in re.split(r"[.\-]", entry.group.lower()) if p and p not in _STOPWORDS],
        "description": words(entry.description),
    }
    for name, items in fields.items():
        for item in set(items):
            bag[item] += _WEIGHTS[name]
    return bag, frozenset(fields["group"])


@dataclass(frozen=True)
class LexicalHit:
    key: str
    score: float
    matched: tuple[str, ...]  # the text's words the kind shares


class LexicalScorer:
    def __init__(self, entries: Iterable[KindEntry]) -> None:
        self._bags: dict[str, Counter[str]] = {}
        self._groups: dict[str, frozenset[str]] = {}
        postings: dict[str, list[str]] = defaultdict(list)
        for entry in entries:
            bag, group_words = _entry_bag(entry)
            self._bags[entry.key] = bag
            self._groups[entry.key] = group_words
            for word in bag:
                postings[word].append(entry.key)
        count = max(len(self._bags), 1)
        self._idf = {w: math.log(1 + count / len(keys)) for w, keys in postings.items()}
        self._postings = dict(postings)
        self._norms = {key: math.sqrt(sum((tf * self._idf[w]) ** 2 for w, tf in bag.items())) or 1.0
                       for key, bag in self._bags.items()}
        # Group words, for query words that only appear inside one ("postgresql" in "dbforpostgresql").
        self._group_words = sorted({w for ws in self._groups.values() for w in ws})

    def score(self, text: str) -> list[LexicalHit]:
        query = set(words(text))
        expanded: dict[str, set[str]] = defaultdict(set)  # entry key -> query words that matched
        weights: dict[str, float] = defaultdict(float)
        query_norm = 0.0
        for word in query:
            targets = [word] if word in self._postings else []
            if len(word) >= 5:
                targets += [g for g in self._group_words if word in g and g != word]
            for target in targets:
                idf = self._idf[target]
                query_norm += idf * idf
                for key in self._postings[target]:
                    weights[key] += self._bags[key][target] * idf * idf
                    expanded[key].add(word)
        if not weights:
            return []
        query_norm = math.sqrt(query_norm)
        hits = [LexicalHit(key, w / (query_norm * self._norms[key]), tuple(sorted(expanded[key])))
                for key, w in weights.items()]
        return sorted(hits, key=lambda h: -h.score)
