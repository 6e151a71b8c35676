"""Every normative clause accounted for by a rule that implements all of it, or a decline that quotes it.

The detectors recognise intents anywhere in the text; this module checks, clause
by clause, that what fires is what was written: each normative clause is
covered by a rule (its topic), every condition, exception, negation and value
in it is implemented by each rule that covers it (the rule's claim), and a
prohibition is never read as a requirement or the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from patternpolicy.analysis.offline.claims import Claim, claim_for
from patternpolicy.analysis.offline.clauses import Clause, split_clauses
from patternpolicy.analysis.offline.context import Finding
from patternpolicy.analysis.offline.qualifiers import NEGATION, negated, qualifiers, subject_modifiers
from patternpolicy.analysis.offline.scope import SCOPE
from patternpolicy.models.rules import Rule

# Words that carry a clause's force rather than its content; two clauses that differ only in these
# and in polarity say opposite things about the same thing.
_FORCE = re.compile(
    r"\b(must|should|shall|may|can|cannot|need|needs|to|has|have|be|is|are|always|ever|a|an|the|all|every|each|"
    r"any|explicitly|also)\b")


@dataclass(frozen=True)
class Vocabulary:
    """What the text may say about its subjects without a rule implementing it."""

    kind_words: frozenset[str] = frozenset()  # names of served kinds ("deployments", "stateful", "set")
    described: frozenset[str] = frozenset()  # kinds found by the text's own words (those words chose them)


@dataclass(frozen=True)
class Accounted:
    findings: list[Finding]
    problem: str = ""


def _claim(finding: Finding, rule: Rule) -> Claim | None:
    return finding.claim or claim_for(rule.id)


def _covers(claim: Claim, clause: Clause) -> bool:
    return re.search(claim.topic, clause.text, re.I) is not None


def _unimplemented(claim: Claim, rule: Rule, clause: Clause, words: Vocabulary) -> str:
    """Why `rule` does not implement all of `clause`, or ""."""
    consumed = [m.span() for pattern in claim.consumes for m in re.finditer(pattern, clause.text, re.I)]
    # "in production" is the policy's namespace scope: configured, or declined by scope.py.
    consumed += [m.span() for m in SCOPE.finditer(clause.text.lower())]
    quals = qualifiers(clause.text)
    if not claim.forbid and not words.described & {k.kind for k in rule.targets}:
        # A prohibition's subject is what it forbids ("Privileged containers must not ..."); a requirement's
        # subject is whom it binds, so a word narrowing it is a condition unless the rule is about that word.
        topic = [m.span() for m in re.finditer(claim.topic, clause.text, re.I)]
        quals += [q for q in subject_modifiers(clause.text, words.kind_words)
                  if not any(start <= q.start and q.end <= end for start, end in topic + consumed)]
    for q in quals:
        if q.kind == "negation" and claim.forbid:
            continue
        if not any(start <= q.start and q.end <= end for start, end in consumed):
            return f"not understood: '{q.phrase}' (in '{clause.text}'; the {rule.id} rule does not implement it)"
    if claim.forbid and not any(q.kind == "negation" for q in quals) and not (
            claim.framing and re.search(claim.framing, clause.text, re.I)):
        return (f"not understood: '{clause.text}' states no prohibition, but the only rule found for it "
                f"({rule.id}) is one")
    return ""


def _core(clause: str) -> frozenset[str]:
    text = NEGATION.sub(" ", clause.lower())
    return frozenset(w for w in re.findall(r"[a-z0-9][\w./-]*", _FORCE.sub(" ", text)))


def contradiction(clauses: list[Clause]) -> str:
    """Two normative clauses that say the same thing with opposite polarity."""
    normative = [c for c in clauses if c.normative]
    for i, first in enumerate(normative):
        for second in normative[i + 1:]:
            if _core(first.text) == _core(second.text) and negated(first.text) != negated(second.text):
                return f"contradicts itself: '{first.text}' and '{second.text}'"
    return ""


def account(description: str, findings: list[Finding], words: Vocabulary | None = None) -> Accounted:
    """The findings with only the rules that some normative clause asks for, or the first problem."""
    clauses = split_clauses(description)
    problem = contradiction(clauses)
    if problem:
        return Accounted([], problem)
    normative = [c for c in clauses if c.normative]
    verdicts = [c for c in clauses if c.kind == "restatement"]
    kept: list[Finding] = []
    covering: dict[int, list[tuple[Claim, Rule]]] = {i: [] for i in range(len(normative))}
    dropped: list[Claim] = []
    for finding in findings:
        if finding.decline:
            kept.append(finding)
            continue
        rules: list[Rule] = []
        for rule in finding.rules:
            claim = _claim(finding, rule)
            if claim is None:
                return Accounted([], f"the {rule.id} rule declares no claim on the text (a bug)")
            covered = [i for i, clause in enumerate(normative) if _covers(claim, clause)]
            for i in covered:
                covering[i].append((claim, rule))
            if covered:  # a rule only background sentences mention is not what the pattern asks for
                rules.append(rule)
            else:
                dropped.append(claim)
        if rules:
            kept.append(Finding(finding.intent, rules=rules, claim=finding.claim))
    for i, clause in enumerate(normative):
        if not covering[i]:
            return Accounted(kept, f"not understood: '{clause.text}'")
        for claim, rule in covering[i]:
            problem = _unimplemented(claim, rule, clause, words or Vocabulary())
            if problem:
                return Accounted(kept, problem)
    # A verdict ("Privileged containers should not be allowed") is read as motivation for the rule the text
    # states; one about something no stated rule covers is a rule of its own, left unimplemented.
    for clause in verdicts:
        if any(_covers(claim, clause) for claim in dropped):
            return Accounted(kept, f"not understood: '{clause.text}' (no sentence states that rule precisely)")
    return Accounted(kept)
