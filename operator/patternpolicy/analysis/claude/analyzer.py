"""ClaudeAnalyzer: ask, check, feed problems back, at most `max_attempts` times."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import ValidationError

from patternpolicy.adapters.anthropic_api import Reply
from patternpolicy.analysis.claude.prompt import SYSTEM, candidate_kinds, estimate_tokens, user_message
from patternpolicy.analysis.claude.schema import TOOL_NAME, Proposal, ProposedRule, tool_definition
from patternpolicy.analysis.podspec import POD_VARIABLES
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import Discovery
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Analysis, KindRef, Rule, Sample, Validation, Variable, Verdict
from patternpolicy.models.text import printable, unsafe_characters

log = logging.getLogger(__name__)
TOKEN_BUDGET = 8000
Verifier = Callable[[Pattern, list[Rule]], list[str]]  # problems found by the real engine, if any


class ModelClient(Protocol):
    def ask(self, system: str, messages: list[dict[str, Any]], tool: dict[str, Any]) -> Reply: ...


def _cel_problems(expression: str) -> list[str]:
    unsafe = unsafe_characters(expression)
    if unsafe:  # a reviewer would read other CEL than the engine runs ("Trojan Source")
        return [f"CEL contains control or text-direction characters ({', '.join(unsafe)}): "
                "write them as escapes such as \\u202e inside a string literal"]
    try:
        import celpy
    except ImportError:
        return []
    try:
        celpy.Environment().compile(expression)
    except Exception as exc:
        return [f"CEL does not parse: {expression!r}: {str(exc).splitlines()[0]}"]
    return []


def _samples(proposed: ProposedRule, targets: list[KindRef]) -> tuple[list[Sample], list[str]]:
    by_kind = {k.kind: k for k in targets}
    samples, problems = [], []
    pairs: tuple[tuple[Verdict, list[dict[str, Any]]], ...] = (("allow", proposed.compliant),
                                                                ("deny", proposed.violating))
    for verdict, objects in pairs:
        for obj in objects:
            kind = by_kind.get(str(obj.get("kind")))
            name = (obj.get("metadata") or {}).get("name")
            if kind is None or not name:
                problems.append(f"sample {obj.get('kind')}/{name} must be one of the rule's kinds and have a name")
                continue
            resource = json.loads(json.dumps(obj))
            resource.setdefault("apiVersion", kind.api_version)
            if kind.namespaced:
                resource["metadata"].setdefault("namespace", "default")
            samples.append(Sample(resource=resource, expect=verdict))
    return samples, problems


def _resolve_kind(name: str, candidates: list[KindRef], catalog: KindCatalog) -> KindRef | None:
    """The candidate the model meant ("FlexibleServer" is the one offered, not its namesake elsewhere)."""
    offered = [k for k in candidates if name in (k.kind, str(k), k.plural)]
    return offered[0] if len(offered) == 1 else catalog.by_kind(name)


def to_rules(proposal: Proposal, catalog: KindCatalog,
             candidates: list[KindRef] | None = None) -> tuple[list[Rule], list[str]]:
    rules, problems = [], []
    for index, proposed in enumerate(proposal.rules, start=1):
        rule_id = f"rule-{index}"  # names are chosen by code, never by the model
        targets = []
        for name in proposed.kinds:
            kind = _resolve_kind(name, candidates or [], catalog)
            if kind is None:
                problems.append(f"{rule_id}: kind {name!r} is not served by this cluster")
            elif kind not in targets:
                targets.append(kind)
        reserved = {v.name for v in POD_VARIABLES}
        variables = [Variable(name=v.name, expression=v.expression) for v in proposed.variables
                     if v.name not in reserved]
        expressions = [v.expression for v in variables] + [v.expression for v in proposed.validations]
        if any(f"variables.{v.name}" in e for e in expressions for v in POD_VARIABLES):
            variables = [*POD_VARIABLES, *variables]
        for expression in expressions:
            problems += [f"{rule_id}: {p}" for p in _cel_problems(expression)]
        samples, sample_problems = _samples(proposed, targets)
        problems += [f"{rule_id}: {p}" for p in sample_problems]
        if not targets:
            continue
        rules.append(Rule(
            id=rule_id, description=proposed.summary, targets=targets, variables=variables,
            validations=[Validation(expression=v.expression, message=v.message) for v in proposed.validations],
            samples=samples))
    return rules, problems


class ClaudeAnalyzer:
    name = "claude"

    def __init__(self, client: ModelClient, max_attempts: int = 3, verifier: Verifier | None = None) -> None:
        self.client = client
        self.max_attempts = max_attempts
        self.verifier = verifier

    def analyze(self, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Analysis:
        tool = tool_definition()
        candidates, subjects = candidate_kinds(discovery)
        user = user_message(pattern, candidates, subjects)
        estimate = estimate_tokens(SYSTEM, user, json.dumps(tool))
        log.info("pattern %s: prompt of about %d input tokens (budget %d)", pattern.ref.name, estimate, TOKEN_BUDGET)
        messages: list[dict[str, Any]] = [{"role": "user", "content": user}]
        problems: list[str] = []
        input_tokens = 0  # summed over every call: what the pattern cost
        for attempt in range(1, self.max_attempts + 1):
            reply = self.client.ask(SYSTEM, messages, tool)
            input_tokens += reply.input_tokens or estimate_tokens(SYSTEM, json.dumps(messages), json.dumps(tool))
            problems, analysis = self._check(reply, pattern, catalog, candidates)
            if analysis is not None:
                return analysis.model_copy(update={"input_tokens": input_tokens, "attempts": attempt})
            if attempt < self.max_attempts:
                log.warning("pattern %s: model answer %d/%d rejected, asking again: %s", pattern.ref.name, attempt,
                            self.max_attempts, "; ".join(problems)[:500])
            # The assistant turn goes back exactly as received: thinking blocks are signed and bound to
            # the conversation, and an altered or missing one is a 400 on the next call.
            messages.append({"role": "assistant", "content": reply.content or [{"type": "text", "text": "(empty)"}]})
            messages.append({"role": "user", "content": feedback(reply, problems)})
        return Analysis(analyzer=self.name, enforceable=False, input_tokens=input_tokens, attempts=self.max_attempts,
                        reason=f"model output failed validation after {self.max_attempts} attempts: "
                               + printable("; ".join(problems))[:1500])

    def _check(self, reply: Reply, pattern: Pattern, catalog: KindCatalog,
               candidates: list[KindRef]) -> tuple[list[str], Analysis | None]:
        call = reply.tool_use(TOOL_NAME)
        if reply.stop_reason == "max_tokens":  # a cut-off tool input may lack its last rules and still validate
            return [f"the answer was cut off at max_tokens: be shorter and call the {TOOL_NAME} tool once"], None
        if call is None:
            other = ", ".join(repr(str(c.get("name"))) for c in reply.tool_uses)
            return [f"unknown tool {other}: answer by calling the {TOOL_NAME} tool" if other
                    else f"answer by calling the {TOOL_NAME} tool, not with text"], None
        if sum(c.get("name") == TOOL_NAME for c in reply.tool_uses) > 1:  # which one was meant is a guess
            return [f"call the {TOOL_NAME} tool exactly once, with the whole proposal"], None
        try:
            proposal = Proposal.model_validate(call.get("input") or {})
        except ValidationError as exc:
            return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()][:10], None
        if not proposal.enforceable:
            # The reason reaches status messages and terminals: no escapes or direction overrides.
            why = printable(proposal.reason) or "no reason given"
            return [], Analysis.declined(self.name, f"not enforceable: {why}")
        if not proposal.rules:
            return ["enforceable=true needs at least one rule"], None
        rules, problems = to_rules(proposal, catalog, candidates)
        if not problems and self.verifier is not None:
            problems = self.verifier(pattern, rules)
        if problems:
            return problems, None
        return [], Analysis(analyzer=self.name, enforceable=True, rules=rules)


def feedback(reply: Reply, problems: list[str]) -> list[dict[str, Any]]:
    """The next user turn: one tool_result per tool_use (the API requires each to be answered), else text."""
    text = (f"Your answer could not be used. Fix these problems and call the {TOOL_NAME} tool again:\n- "
            + "\n- ".join(problems))
    calls = reply.tool_uses
    if not calls:
        return [{"type": "text", "text": text}]
    return [{"type": "tool_result", "tool_use_id": c["id"], "is_error": True,
             "content": text if c.get("name") == TOOL_NAME else
             f"unknown tool {c.get('name')!r}: only {TOOL_NAME} exists"} for c in calls]
