"""Splitting a pattern's description into clauses, each classified on purpose.

Only normative clauses (what must or must not be) have to be accounted for by
a rule. Everything else is read deliberately as one of the informational kinds
below, so that a sentence is never skipped merely because no detector knew it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from patternpolicy.analysis.offline.qualifiers import qualifiers

ClauseKind = Literal["normative", "headline", "meta", "advisory", "restatement", "descriptive"]

# Words that make a clause state a rule ("must", "never", "only", "disallow", ...).
_DEONTIC = re.compile(
    r"\b(must|mustn't|should|shouldn't|shall|may not|cannot|can not|can't|needs? to|ha(?:s|ve) to|"
    r"(?:is|are|be) (?:required|mandatory|forbidden|prohibited|disallowed|not allowed|allowed only)|"
    r"requires?|needs?|required to|never|(?<!-)only|not (?:be )?allowed|no \w+ (?:may|can|shall)|"
    # Permissions and exemptions shape a rule as much as obligations do ("Jobs are exempt").
    r"exempt\w*|excluded|(?:is|are) (?:allowed|permitted)(?! to)|(?:does|do) not apply|"
    r"(?:is|are) optional(?! \w+ (?:that|which))|"
    r"(?:is|are) not required|need not|(?:do|does) not need to|(?:is|are) (?:skipped|ignored|not checked))\b", re.I)
# "It requires administrative privileges" describes the thing the text is about; it is no requirement.
_DESCRIBED_NEED = re.compile(r"^(?:it|this|that|they|these|those|which)\b", re.I)
# An imperative at the start of a clause is a rule too ("Disallow privileged containers").
_IMPERATIVE = re.compile(
    r"^(?:please )?(disallow|forbid|prohibit|prevent|block|deny|reject|restrict|require|enforce|ensure|"
    r"never|only|do not|don't)\b", re.I)
# "This policy ensures that ...": the precise rule, in the style of policy libraries.
POLICY_STATEMENT = re.compile(
    r"^(?:this|the) (?:policy|rule)\b(?:\s*,[^,]*,)?\s+(?:also\s+)?(?:ensures?|validates?|requires?|prevents?|"
    r"prohibits?|blocks?|restricts?|enforces?|disables?|checks?|audits?|denies|disallows?|forbids?|verifies|"
    r"limits?|mandates?)\b", re.I)
# Sentences about the policy or its tooling rather than about resources.
_META = re.compile(
    r"^(?:note\b|see\b|for more|please read|read\b|a known issue|rule auto-generation|kyverno\b|in addition to "
    r"or replacement)|\b(?:this|the|that|baseline|restricted|separate|a) (?:policy|policies|rule)\b|"
    r"https?://", re.I)
# ... unless it says where the policy applies: that is part of the rule ("This rule applies only to Pods").
_APPLIES = re.compile(r"\b(appl(?:y|ies)|exempt\w*|except\w*|unless|(?<!-)only|exclud\w*|skip\w*|ignor\w*)\b", re.I)
# Recommendations and best practices guide people; an admission rule is not made of them.
# Hedged generalisations ("typically never appropriate") describe; they do not decide admission.
_ADVISORY = re.compile(r"\b(recommend\w*|best practice|may be necessary|consider\w*|preferabl[ey]|ideally|"
                       r"good idea|typically|usually|generally|often|normally|in most cases)\b", re.I)
# Deontic-looking words that state ability, likelihood or sufficiency, not obligation ("cannot be highly
# available", "may not be appropriate"; but "cannot be mounted" forbids).
_NOT_DEONTIC = re.compile(r"\b(?:can(?:not|'t| not) be used to|only needs? to|only requires?|(?:can(?:not|'t| not)|"
                          r"may not) be (?:\w+ly )?(?!(?:\w+ed|\w+en|allowed|used|set|run)\b)\w+)\b", re.I)
# A deontic word inside an "if"/"whether" clause is that clause's, not the sentence's ("to determine
# if the containers need to be restarted").
_SUBORDINATE = re.compile(r"\b(?:if|whether)\b[^,;]*$", re.I)
# "This access ... should not be allowed": a judgement on what the sentence before described.
_JUDGEMENT = re.compile(
    r"\b(?:should|must|shall)(?: not)? be (?:\w+ly )?(?:allowed|disallowed|prevented|avoided|restricted|blocked|"
    r"forbidden|prohibited|minimi[sz]ed|audited|followed|required)\W*$", re.I)
_ANAPHOR = re.compile(r"^(?:this|that|these|those|it|they|such|their use|its use)\b", re.I)
_HEADLINE_WORDS = 12


@dataclass(frozen=True)
class Clause:
    text: str
    kind: ClauseKind

    @property
    def normative(self) -> bool:
        return self.kind == "normative"


_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|no|resp)\.|\b[a-z]\.)$", re.I)


def _sentences(text: str) -> list[str]:
    # After sentence punctuation (not "e.g." nor inside version numbers or domains), newlines and semicolons.
    pieces = re.split(r"(?<=[.!?])[\"')\]]*\s+|\n+|;\s+", text.strip())
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return [c for c in (s.strip().rstrip(".!?").strip() for s in sentences) if c]


def _deontic(sentence: str) -> bool:
    plain = _NOT_DEONTIC.sub(" ", sentence)
    return any(not _SUBORDINATE.search(plain[:m.start()])
               and not (m.group(0).lower().startswith(("require", "need")) and _DESCRIBED_NEED.search(plain))
               for m in _DEONTIC.finditer(plain))


def _bare_judgement(sentence: str) -> bool:
    """'... and hence should not be allowed': a verdict with no condition, exception or value of its own."""
    return bool(_JUDGEMENT.search(sentence)) and all(q.kind == "negation" for q in qualifiers(sentence))


def _classify(sentence: str, first: bool, has_policy_statement: bool) -> ClauseKind:
    policy = bool(POLICY_STATEMENT.search(sentence))
    if not policy and _META.search(sentence) and not _APPLIES.search(sentence):
        return "meta"
    if policy:
        return "normative"
    if _ADVISORY.search(sentence):
        return "advisory"
    deontic = _deontic(sentence) or bool(_IMPERATIVE.search(sentence))
    if not deontic:
        return "headline" if first and len(sentence.split()) <= _HEADLINE_WORDS else "descriptive"
    # A verdict on what an earlier sentence described ("This access ... should not be allowed"), or, next to
    # a policy statement that spells the rule out, a bare verdict that the statement makes precise.
    if _JUDGEMENT.search(sentence) and (_ANAPHOR.search(sentence) or (has_policy_statement
                                                                       and _bare_judgement(sentence))):
        return "restatement"
    if first and len(sentence.split()) <= _HEADLINE_WORDS and not _deontic(_IMPERATIVE.sub("", sentence)):
        return "headline"
    return "normative"


def split_clauses(description: str) -> list[Clause]:
    """The description's sentences, classified. A short imperative first sentence is a headline (a title
    the text goes on to spell out) unless nothing after it states a rule; then it is the rule."""
    sentences = _sentences(re.sub(r"[ \t]+", " ", description))
    has_policy_statement = any(POLICY_STATEMENT.search(s) for s in sentences)
    clauses = [Clause(s, _classify(s, i == 0, has_policy_statement)) for i, s in enumerate(sentences)]
    if (clauses and clauses[0].kind == "headline" and not any(c.normative for c in clauses[1:])
            and _IMPERATIVE.search(clauses[0].text)):
        clauses[0] = Clause(clauses[0].text, "normative")
    return clauses
