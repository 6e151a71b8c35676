"""ClaudeAnalyzer: ask, answer kind lookups, check the proposal, feed problems back; every round bounded.

The model has two tools: `propose_rules` (its answer) and `look_up_kinds` (served kinds and their
field paths, lookup.py). A call either spends one of `max_lookups` lookups or is one of `max_attempts`
answer rounds, so a pattern costs at most `max_lookups + max_attempts` model calls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from patternpolicy.adapters.anthropic_api import Reply
from patternpolicy.analysis.claude.lookup import LOOKUP_TOOL, KindLookup, LookupRequest, lookup_tool_definition
from patternpolicy.analysis.claude.prompt import SYSTEM, candidate_kinds, estimate_tokens, user_message
from patternpolicy.analysis.claude.rules import to_rules
from patternpolicy.analysis.claude.schema import TOOL_NAME, Proposal, tool_definition
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import Discovery
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Analysis, KindRef, Rule
from patternpolicy.models.text import printable

log = logging.getLogger(__name__)
TOKEN_BUDGET = 8000
MAX_LOOKUPS = 2  # look_up_kinds calls per pattern (PATTERNPOLICY_MODEL_MAX_LOOKUPS)
Verifier = Callable[[Pattern, list[Rule]], list[str]]  # problems found by the real engine, if any


class ModelClient(Protocol):
    def ask(self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply: ...


def _result(call: dict[str, Any], text: str, error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call["id"], "content": text}
    return {**block, "is_error": True} if error else block


@dataclass
class _Conversation:
    """One pattern's exchange with the model, and what it has cost so far."""

    lookup: KindLookup
    offered: list[KindRef]  # valid targets: the candidates, then every kind a lookup returned
    messages: list[dict[str, Any]]
    calls: int = 0
    answers: int = 0
    lookups: int = 0
    input_tokens: int = 0  # summed over every call: what the pattern cost
    looked_up: list[str] = field(default_factory=list)

    def reply_with(self, reply: Reply, content: list[dict[str, Any]]) -> None:
        # The assistant turn goes back exactly as received: thinking blocks are signed and bound to the
        # conversation, and an altered or missing one is a 400 on the next call. Every tool_use in it is
        # answered by a tool_result in `content`, all of them first (the API requires both).
        self.messages.append({"role": "assistant", "content": reply.content or [{"type": "text", "text": "(empty)"}]})
        self.messages.append({"role": "user", "content": content})

    def notes(self) -> list[str]:
        return [f"kinds looked up by the model: {'; '.join(self.looked_up)}"] if self.looked_up else []


class ClaudeAnalyzer:
    name = "claude"

    def __init__(self, client: ModelClient, max_attempts: int = 3, verifier: Verifier | None = None,
                 max_lookups: int = MAX_LOOKUPS) -> None:
        self.client = client
        self.max_attempts = max_attempts
        self.max_lookups = max_lookups
        self.verifier = verifier

    def analyze(self, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Analysis:
        tools = [tool_definition(), lookup_tool_definition()]
        candidates, subjects = candidate_kinds(discovery)
        user = user_message(pattern, candidates, subjects)
        estimate = estimate_tokens(SYSTEM, user, json.dumps(tools))
        log.info("pattern %s: prompt of about %d input tokens (budget %d)", pattern.ref.name, estimate, TOKEN_BUDGET)
        talk = _Conversation(KindLookup(catalog), list(candidates), [{"role": "user", "content": user}])
        problems: list[str] = []
        while talk.answers < self.max_attempts:
            reply = self.client.ask(SYSTEM, talk.messages, tools)
            talk.calls += 1
            talk.input_tokens += reply.input_tokens or estimate_tokens(SYSTEM, json.dumps(talk.messages),
                                                                       json.dumps(tools))
            if self._is_lookup(reply, talk):
                talk.reply_with(reply, self._tool_results(reply, talk, ""))
                continue
            talk.answers += 1
            problems, analysis = self._check(reply, pattern, catalog, talk)
            if analysis is not None:
                return analysis.model_copy(update={"input_tokens": talk.input_tokens, "attempts": talk.calls,
                                                   "notes": [*analysis.notes, *talk.notes()]})
            if talk.answers < self.max_attempts:
                log.warning("pattern %s: model answer %d/%d rejected, asking again: %s", pattern.ref.name,
                            talk.answers, self.max_attempts, "; ".join(problems)[:500])
            talk.reply_with(reply, self._feedback(reply, talk, problems))
        return Analysis(analyzer=self.name, enforceable=False, input_tokens=talk.input_tokens, attempts=talk.calls,
                        notes=talk.notes(), reason=self._failure(talk, problems))

    def _is_lookup(self, reply: Reply, talk: _Conversation) -> bool:
        """A lookup round: lookups asked for while some are left, and no proposal. A reply that also calls
        propose_rules is an answer: the proposal is checked (its lookups are answered only if it fails), so
        a usable answer is never delayed by a question the model had already moved past."""
        names = {c.get("name") for c in reply.tool_uses}
        return (LOOKUP_TOOL in names and TOOL_NAME not in names and talk.lookups < self.max_lookups
                and reply.stop_reason != "max_tokens")

    def _tool_results(self, reply: Reply, talk: _Conversation, answer_problems: str) -> list[dict[str, Any]]:
        """One tool_result per tool_use, in the order of the calls."""
        results = []
        for call in reply.tool_uses:
            name = call.get("name")
            if name == TOOL_NAME:
                results.append(_result(call, answer_problems, error=True))
            elif name == LOOKUP_TOOL:
                results.append(self._look_up(call, talk))
            else:
                results.append(_result(call, f"unknown tool {name!r}: only {TOOL_NAME} and {LOOKUP_TOOL} exist",
                                       error=True))
        return results

    def _look_up(self, call: dict[str, Any], talk: _Conversation) -> dict[str, Any]:
        if talk.lookups >= self.max_lookups:
            return _result(call, f"Kind lookups are exhausted ({self.max_lookups} per pattern): answer now with the "
                                 f"{TOOL_NAME} tool, using the candidates and the kinds already looked up.", error=True)
        talk.lookups += 1  # an invalid request counts too: every lookup is a model call to pay for
        try:
            request = LookupRequest.model_validate(call.get("input") or {})
        except ValidationError as exc:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()][:5]
            return _result(call, "invalid lookup: " + "; ".join(problems), error=True)
        found = talk.lookup.answer(request)
        for kind in found.kinds:
            if kind not in talk.offered:
                talk.offered.append(kind)
        asked = [*request.names, *([repr(request.describe)] if request.describe else [])]
        talk.looked_up.append(f"{', '.join(printable(a) for a in asked)[:200]} -> "
                              f"{', '.join(str(k) for k in found.kinds) or 'none served'}")
        return _result(call, found.text)

    def _check(self, reply: Reply, pattern: Pattern, catalog: KindCatalog,
               talk: _Conversation) -> tuple[list[str], Analysis | None]:
        call = reply.tool_use(TOOL_NAME)
        if reply.stop_reason == "max_tokens":  # a cut-off tool input may lack its last rules and still validate
            return [f"the answer was cut off at max_tokens: be shorter and call the {TOOL_NAME} tool once"], None
        if call is None:
            names = [str(c.get("name")) for c in reply.tool_uses]
            if LOOKUP_TOOL in names:
                return [f"no kind lookups are left: answer with the {TOOL_NAME} tool"], None
            other = ", ".join(repr(n) for n in names)
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
        rules, problems = to_rules(proposal, catalog, talk.offered)
        if not problems and self.verifier is not None:
            problems = self.verifier(pattern, rules)
        if problems:
            return problems, None
        return [], Analysis(analyzer=self.name, enforceable=True, rules=rules)

    def _feedback(self, reply: Reply, talk: _Conversation, problems: list[str]) -> list[dict[str, Any]]:
        """The next user turn: one tool_result per tool_use (the API requires each to be answered), else text."""
        text = (f"Your answer could not be used. Fix these problems and call the {TOOL_NAME} tool again:\n- "
                + "\n- ".join(problems))
        if not reply.tool_uses:
            return [{"type": "text", "text": text}]
        return self._tool_results(reply, talk, text)

    def _failure(self, talk: _Conversation, problems: list[str]) -> str:
        if any(p.startswith("no kind lookups are left") for p in problems):
            return (f"the model kept looking up kinds ({talk.lookups} lookups, {talk.calls} model calls) and never "
                    f"answered with {TOOL_NAME}")
        spent = f" ({talk.lookups} kind lookups)" if talk.lookups else ""
        return (f"model output failed validation after {self.max_attempts} attempts{spent}: "
                + printable("; ".join(problems))[:1500])
