"""Qualifiers inside a clause: conditions, exceptions, negations and values.

Each is a span of the clause. A rule accounts for a clause only when it
implements every qualifier in it; an unimplemented one is quoted back in the
decline ("not understood: 'when the image uses the latest tag'").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

QualifierKind = Literal["condition", "exception", "negation", "value"]

NEGATION = re.compile(
    r"\b(must not|mustn't|should not|shouldn't|shall not|may not|cannot|can not|can't|do not|does not|don't|"
    r"doesn't|not|never|no|none|nothing|without|forbid\w*|disallow\w*|prohibit\w*|prevent\w*|den(?:y|ies|ied)|"
    r"block\w*|restrict\w*|ban(?:s|ned)?|disabl\w*|reject\w*|avoid\w*|audits?)\b", re.I)
# Verbs after which "that" introduces what is stated, not which objects are meant.
_SAYING = {"ensure", "ensures", "ensuring", "validate", "validates", "require", "requires", "required", "check",
           "checks", "enforce", "enforces", "verify", "verifies", "mean", "means", "so", "such", "state", "states",
           "confirm", "confirms", "guarantee", "guarantees", "mandate", "mandates", "is", "are", "be", "note",
           "than", "audits", "prevents", "disallows", "forbids", "prohibits", "blocks", "restricts", "denies",
           "and", "or"}
# Words ending in "s" that are not plural nouns ("its granting" is no reduced relative clause).
_NOT_NOUNS = {"its", "this", "his", "is", "was", "has", "does", "us", "as", "thus", "always", "perhaps", "across",
              "unless", "less", "plus", "whereas", "yes", "besides"}
_CONDITION = re.compile(
    r"\b(?:only (?:when|if)|when(?:ever)?|if|in case|provided that|as long as|where|while|whose|of type|with|"
    r"having|that|which|who)\b"
    # A reduced relative clause: "pods mounting the socket", "containers running as root".
    r"|\b[a-z]+s (?!during\b|including\b|according\b)[a-z]{3,}ing\b(?= [a-z])", re.I)


def _is_condition(m: re.Match[str]) -> bool:
    word = m.group(0).lower()
    before = m.string[:m.start()].split()
    previous = before[-1].lower().strip(",") if before else ""
    if word in ("that", "which", "who"):
        return bool(previous) and previous not in _SAYING
    if word.endswith("ing") and " " in word:
        return word.split()[0] not in _SAYING | _NOT_NOUNS
    return True


_EXCEPTION = re.compile(
    r"\b(except(?: for)?|unless|other than|excluding|apart from|besides|but not|nothing but|(?<!-)only|"
    r"with the exception of|exempt\w*)\b", re.I)
_VALUE = re.compile(
    r"\b(set to|equals?(?: to)?|at most|at least|no (?:more|less|fewer) than|not (?:more|less|fewer) than|"
    r"(?:more|less|greater|fewer|lower|higher|larger|smaller) than|between|one of|any of|either|exactly|"
    r"maximum|minimum|to (?:the |a )?values?(?: of)?|match(?:es|ing)?|regex|pattern|true|false|"
    r"read[- ]?(?:only|write)|writ(?:e|able)|immutable|encrypted|signed|empty|"
    r"outside|inside|within|beyond|above|below|exceed\w*|up to(?= \d)|same|identical|different|differ)\b"
    r"|\bto\s+[`\"']|(?<![=!<>])=(?!=)|[<>]=?|\b\d+\s*-\s*\d+\b"
    r"|(?<![\w.\-/:])\d+(?:\.\d+)?(?:\s*(?:[kmgtp]i?b?|cpus?|cores?|millicores?|%|percent|seconds?|minutes?|"
    r"hours?|days?|ms|s|m)\b)?(?![\w.\-/:])", re.I)
# What a clause says something must *be* is a value, unless it is only presence or the verdict itself
# ("must be a semantic version", "must be Always"; not "must be set", "must be disallowed").
_PREDICATE = re.compile(
    r"\b(?:must|should|shall|has to|have to|needs? to|is|are)(?: not)?(?: always| explicitly)? be "
    # A passive verb ("be shared", "be set") is what happens, not a value; nor are presence and verdicts.
    r"(?!(?:\w+ly )?(?:\w+ed|present|set|run|unset|able|undefined|forbidden|minimi[sz]ed)\b)(?:\w+ly )?"
    r"[\w`'\"/:-]+|\b(?:is|are)(?: always)? [`\"'][^`\"']+[`\"']", re.I)
_PATTERNS: tuple[tuple[QualifierKind, re.Pattern[str]], ...] = (
    ("exception", _EXCEPTION), ("condition", _CONDITION), ("negation", NEGATION), ("value", _VALUE),
    ("value", _PREDICATE))
# Where a quoted qualifier stops: the next comma, modal verb or clause end.
_QUOTE_END = re.compile(r",|;|\b(?:must|should|shall|may|cannot|is|are|be|needs?)\b", re.I)


@dataclass(frozen=True)
class Qualifier:
    kind: QualifierKind
    start: int
    end: int
    clause: str

    @property
    def phrase(self) -> str:
        """The qualifier with the words it governs, for a person to read."""
        if self.kind == "value":
            # A value reads best with a few words around it ("set label team to 'x'").
            left = self.clause.rfind(" ", 0, max(self.start - 1, 0))
            left = self.clause.rfind(" ", 0, max(left, 0)) if left > 0 else 0
            end = self._stop(self.end + 1)
            return self.clause[max(left, 0):end].strip(" ,")
        return self.clause[self.start:self._stop(self.end)].strip(" ,")

    def _stop(self, start: int) -> int:
        m = _QUOTE_END.search(self.clause, start)
        return m.start() if m else len(self.clause)


def qualifiers(clause: str) -> list[Qualifier]:
    found: list[Qualifier] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(clause):
            if kind == "condition" and not _is_condition(m):
                continue
            span = (m.start(), m.end())
            # One word is one qualifier ("nothing but" is an exception, not also a negation).
            if any(q.start <= span[0] and span[1] <= q.end for q in found):
                continue
            found.append(Qualifier(kind, span[0], span[1], clause))
    return sorted(found, key=lambda q: q.start)


def negated(clause: str) -> bool:
    return any(q.kind == "negation" for q in qualifiers(clause))


# Words a requirement's subject may hold without narrowing it: quantifiers, the things rules are about,
# and the parts of them rules read. Anything else before the modal ("Privileged pods must ...", "init
# containers must ...") says which objects are meant: a condition.
_PLAIN_SUBJECT = frozenset({
    "all", "every", "each", "any", "the", "a", "an", "its", "their", "new", "and", "or", "of", "in", "kubernetes",
    "pod", "pods", "container", "containers", "workload", "workloads", "image", "images", "resource", "resources",
    "object", "objects", "manifest", "manifests", "spec", "specs", "capabilities", "capability", "probe", "probes",
    "label", "labels", "limit", "limits", "request", "requests", "tag", "tags", "field", "fields",
    "securitycontext", "liveness", "readiness", "startup", "cpu", "memory", "value", "values", "addition", "also",
    "additionally", "furthermore", "moreover", "however", "therefore", "hence", "thus", "finally", "then", "as",
    "such",
})
_MODAL = re.compile(r"\b(?:must|should|shall|may|cannot|can|needs?|ha(?:s|ve) to|(?:is|are) required)\b", re.I)


def subject_modifiers(clause: str, kind_words: frozenset[str]) -> list[Qualifier]:
    """Words before the clause's modal verb that narrow which objects a requirement is about."""
    m = _MODAL.search(clause)
    if m is None:
        return []
    found = []
    for word in re.finditer(r"`[^`]*`|[\"'][^\"']*[\"']|[A-Za-z][\w/.-]*", clause[:m.start()]):
        token = word.group(0).lower()
        if token[0] in "`\"'" or token in _PLAIN_SUBJECT or token in kind_words or token.rstrip("s") in kind_words:
            continue
        found.append(Qualifier("condition", word.start(), word.end(), clause))
    return found
