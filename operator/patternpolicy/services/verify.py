"""Engine verification of candidate rules, used as feedback for the model."""

from __future__ import annotations

from collections.abc import Callable

from patternpolicy.adapters.kyverno_cli import find_kyverno
from patternpolicy.compile.validatingpolicy import compile_validating_policy
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Rule
from patternpolicy.services.validation import prove


def make_verifier(field_check: Callable[[Rule], list[str]] | None) -> Callable[[Pattern, list[Rule]], list[str]]:
    """Field checks first (cheap, precise feedback), then the engine on the rules' own samples."""
    def verify(pattern: Pattern, rules: list[Rule]) -> list[str]:
        problems = [f"{r.id}: {p}" for r in rules for p in (field_check(r) if field_check else [])]
        return problems or engine_verifier(pattern, rules)
    return verify


def engine_verifier(pattern: Pattern, rules: list[Rule]) -> list[str]:
    """Problems the real Kyverno CLI finds with each rule's own samples; none when no CLI is installed
    (the proposal's validation then records the behaviour check as skipped)."""
    if find_kyverno() is None:
        return []
    problems = []
    for rule in rules:
        policy = compile_validating_policy(pattern, rule)
        tests = [{"policy": policy["metadata"]["name"], "expect": s.expect, "resource": s.resource}
                 for s in rule.samples]
        behaviour = prove(rule.id, [policy], tests)
        if behaviour.verdict in ("wrong", "no-samples"):
            problems.append(f"{rule.id}: the engine disagrees with your samples: {behaviour.detail}")
        elif behaviour.verdict == "unproven":
            problems.append(f"{rule.id}: the engine did not judge your samples (a sample of a kind the rule does "
                            f"not match proves nothing): {behaviour.detail}")
    return problems
