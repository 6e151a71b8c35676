"""Bad model output (tests/data/bad_inputs/model_outputs.yaml) through the real client, analyser and pipeline.

Each case scripts what the model answers, round by round, on the local server that speaks the Messages
API (tests/support/fake_anthropic.py, which refuses what the real API refuses). The analyser is wired as
the operator wires it (`choose_analyzer` with the field checker and the engine verifier), and each case
asserts what a user would see: a bad answer never becomes a policy, the feedback the model gets next names
the problem, the decline reason names it after the last attempt, and nothing escapes as an exception.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.adapters.anthropic_api import ModelConfig
from patternpolicy.adapters.kyverno_cli import find_kyverno
from patternpolicy.analysis.podspec import POD_VARIABLES
from patternpolicy.compile.naming import policy_labels, policy_name
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.models.text import UNSAFE
from patternpolicy.schemas import builtin_schemas
from patternpolicy.services.analyzers import choose_analyzer
from patternpolicy.services.pipeline import Generated, run_pipeline
from patternpolicy.validate.field_check import make_field_checker
from tests.support.fake_anthropic import KEY, FakeAnthropic, Step, fake_anthropic

DATA = yaml.safe_load((Path(__file__).parents[1] / "data" / "bad_inputs" / "model_outputs.yaml").read_text())
CASES: list[dict[str, Any]] = DATA["cases"]
GOOD: dict[str, Any] = DATA["good"]
CATEGORIES: dict[str, int] = DATA["categories"]  # id prefix -> the fewest cases it must have
CATALOG = KindCatalog.builtin()
CHECK = make_field_checker(builtin_schemas())
PATTERN = Pattern(ref=PatternRef(name=DATA["pattern"]["name"], uid="u1", generation=2),
                  spec=PatternSpec(description=DATA["pattern"]["description"]))
# Keys that would make a policy do more than deny: none may appear anywhere in what is emitted.
NOT_DENY = {"mutate", "generate", "patches", "mutation", "mutations", "patchStrategicMerge", "patchesJson6902",
            "foreach", "verifyImages", "cleanup"}


def _path(key: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in key.split(".")]


def _expand(value: Any) -> Any:
    """`{$repeat: s, $times: n}` is a long string, `{$copies: v, $times: n}` a list, `{$good: path}` a part of
    the good answer: so huge inputs stay readable in the data file."""
    if isinstance(value, dict):
        if "$repeat" in value:
            return str(value["$repeat"]) * int(value["$times"])
        if "$copies" in value:
            return [copy.deepcopy(_expand(value["$copies"])) for _ in range(int(value["$times"]))]
        if "$good" in value:
            found: Any = GOOD
            for part in _path(value["$good"]):
                found = found[part]
            return copy.deepcopy(found)
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _tool_input(reply: dict[str, Any]) -> dict[str, Any]:
    """The whole `input`, or the good answer with `set` (dotted path -> value) and `drop` (dotted paths)."""
    if "input" in reply:
        return dict(_expand(reply["input"]))
    answer = copy.deepcopy(GOOD)
    for key, value in (reply.get("set") or {}).items():
        *parents, last = _path(key)
        node: Any = answer
        for part in parents:
            node = node[part]
        node[last] = _expand(value)
    for key in reply.get("drop") or []:
        *parents, last = _path(key)
        node = answer
        for part in parents:
            node = node[part]
        del node[last]
    return answer


def _step(reply: dict[str, Any], number: int) -> Step:
    """One scripted answer: text blocks, tool calls (`calls`, or the reply itself as one call), a stop reason."""
    content: list[dict[str, Any]] = []
    if "text" in reply:
        content.append({"type": "text", "text": reply["text"]})
    calls = reply.get("calls", [] if reply.get("shape") == "text" else [reply])
    for index, call in enumerate(calls):
        content.append({"type": "tool_use", "id": f"toolu_{number:02d}{index:02d}",
                        "name": call.get("tool", "propose_rules"), "input": _tool_input(call)})
    stop = reply.get("stop_reason") or ("tool_use" if calls else "end_turn")
    return Step(content=content, stop_reason=stop)


def _run(case: dict[str, Any]) -> tuple[Generated, FakeAnthropic]:
    attempts = int(case.get("attempts_allowed", 2))
    replies = list(case["replies"])
    if case["outcome"] == "declined":  # the last bad answer again until the attempts run out
        replies += [replies[-1]] * (attempts - len(replies))
    with fake_anthropic(*(_step(r, i) for i, r in enumerate(replies))) as server:
        config = ModelConfig(api_key=KEY, base_url=server.url, timeout=10, max_retries=0, max_attempts=attempts)
        analyzer = choose_analyzer("claude", config=config, field_check=CHECK)
        generated = run_pipeline(PATTERN, analyzer, CATALOG, field_check=CHECK)
    return generated, server


def _feedback(request: dict[str, Any]) -> str:
    """What the model was told in the last user turn: every tool_result's content, or the text."""
    content = request["json"]["messages"][-1]["content"]
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    return "\n".join(str(b.get("content", b.get("text", ""))) for b in blocks)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _needs_engine(case: dict[str, Any]) -> None:
    if case.get("needs_engine") and find_kyverno() is None:
        # A case that cannot run must fail loudly, never pass without checking anything.
        raise FileNotFoundError("this case needs the Kyverno CLI: run `make binaries` or set PATTERNPOLICY_KYVERNO")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_bad_model_output(case: dict[str, Any]) -> None:
    _needs_engine(case)
    generated, server = _run(case)
    analysis = generated.analysis
    assert server.refusals == [], server.refusals  # every request we sent was one the real API accepts
    rounds = server.requests[1:]
    expected = case.get("feedback", case.get("problem"))
    wanted = expected if isinstance(expected, list) else [expected] * len(rounds)
    assert len(wanted) == len(rounds), ([_feedback(r) for r in rounds], analysis.reason)
    for number, (request, text) in enumerate(zip(rounds, wanted, strict=True), start=1):
        assert text in _feedback(request), f"feedback {number}: {_feedback(request)!r}"
    if case["outcome"] == "declined":
        assert generated.policies == [] and not analysis.enforceable and analysis.rules == []
        assert len(server.requests) == analysis.attempts == int(case.get("attempts_allowed", 2))
        reason = case.get("reason", case.get("problem"))
        assert reason in generated.reason, generated.reason
        assert not UNSAFE.search(generated.reason), generated.reason  # status messages reach terminals
        return
    assert analysis.enforceable and analysis.attempts == int(case.get("attempts", 1)), analysis.reason
    assert len(server.requests) == analysis.attempts
    assert [p["metadata"]["name"] for p in generated.policies] == [
        policy_name(PATTERN.ref.name, f"rule-{i}") for i in range(1, len(generated.policies) + 1)]
    for number, policy in enumerate(generated.policies, start=1):
        assert policy["metadata"]["labels"] == policy_labels(PATTERN.ref, f"rule-{number}")
        assert not _keys(policy) & NOT_DENY, _keys(policy) & NOT_DENY
        ours = {v.name: v.expression for v in POD_VARIABLES}
        for variable in policy["spec"].get("variables", []):
            assert ours.get(variable["name"], variable["expression"]) == variable["expression"]
    written = json.dumps(generated.policies, ensure_ascii=False)
    assert not UNSAFE.search(written) and "\x1b" not in written, written
    for absent in case.get("absent", []):
        assert absent not in written, absent
    for message in case.get("messages", []):
        assert message in [v["message"] for p in generated.policies for v in p["spec"]["validations"]]
    for annotation in case.get("annotations", []):
        assert annotation in [a for p in generated.policies for a in p["metadata"]["annotations"].values()]


def test_catalogue_covers_the_categories() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 45
    counts = Counter(next(p for p in CATEGORIES if i.startswith(p)) for i in ids)
    print("bad model output cases: " + ", ".join(f"{p.rstrip('-')} {counts[p]}" for p in CATEGORIES)
          + f"; {len(ids)} in all")
    for prefix, fewest in CATEGORIES.items():
        assert counts[prefix] >= fewest, (prefix, counts[prefix])
    assert {c["outcome"] for c in CASES} == {"accepted", "declined"}
