"""The Claude analyser against a local server that speaks the Messages API wire format and enforces its contract."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from patternpolicy.adapters.anthropic_api import ClaudeClient, ModelConfig, ModelRejected, ModelUnavailable
from patternpolicy.adapters.claude_models import DEFAULT_MODEL, MODELS
from patternpolicy.analysis.claude.analyzer import TOKEN_BUDGET, ClaudeAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import discover
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.services.pipeline import run_pipeline
from tests.support.fake_anthropic import KEY, SERVED, error, fake_anthropic, text_only, tool_use

CATALOG = KindCatalog.builtin()
PATTERN = Pattern(ref=PatternRef(name="no-host-network", uid="u1", generation=2),
                  spec=PatternSpec(description="Deployments must not use the host network"))
DISCOVERY = discover(PATTERN, CATALOG)


def deployment(name: str, host_network: bool | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx:1.27"}]}
    if host_network is not None:
        spec["hostNetwork"] = host_network
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}}, "spec": spec}}}


GOOD_ANSWER: dict[str, Any] = {
    "enforceable": True, "reason": "",
    "rules": [{
        "summary": "Deployments must not set hostNetwork",
        "kinds": ["Deployment"],
        "validations": [{"expression": "!has(variables.podSpec.hostNetwork) || !variables.podSpec.hostNetwork",
                         "message": "hostNetwork is not allowed"}],
        "compliant": [deployment("ok", None), deployment("ok-false", False)],
        "violating": [deployment("bad", True)],
    }],
}


def analyzer(url: str, attempts: int = 3, timeout: float = 5.0, retries: int = 2,
             model: str = DEFAULT_MODEL) -> ClaudeAnalyzer:
    config = ModelConfig(api_key=KEY, model=model, base_url=url, timeout=timeout, max_retries=retries)
    return ClaudeAnalyzer(ClaudeClient(config), max_attempts=attempts)


def test_tool_use_answer_becomes_rules_and_the_request_is_bounded() -> None:
    with fake_anthropic(tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert result.enforceable and result.analyzer == "claude"
    (rule,) = result.rules
    assert rule.id == "rule-1" and [k.kind for k in rule.targets] == ["Deployment"]
    assert [v.name for v in rule.variables] == ["podSpec", "containers"]
    assert {s.expect for s in rule.samples} == {"allow", "deny"}
    (request,) = server.requests
    body = request["json"]
    assert request["path"] == "/v1/messages"
    # SDK versions send the key as x-api-key or as a bearer token
    assert KEY in (request["headers"].get("x-api-key", ""), request["headers"].get("authorization", "")[7:])
    assert body["model"] == "claude-sonnet-5-5"
    # Sonnet 5.5 answers forced tool use with a 400: the tool is offered, the system prompt insists on it
    assert body["tool_choice"] == {"type": "auto"} and "thinking" not in body
    assert "calling the propose_rules tool" in body["system"]
    assert body["tools"][0]["input_schema"]["required"] == ["enforceable"]
    prompt = body["messages"][0]["content"]
    assert "Deployments must not use the host network" in prompt and "Deployment (apiVersion apps/v1" in prompt
    assert 0 < result.input_tokens < TOKEN_BUDGET and result.attempts == 1
    assert server.refusals == []


def test_names_and_labels_come_from_code_not_the_model() -> None:
    answer = copy.deepcopy(GOOD_ANSWER)
    answer["rules"][0]["summary"] = "name: evil-policy; labels: owner=model"
    with fake_anthropic(tool_use(answer)) as server:
        generated = run_pipeline(PATTERN, analyzer(server.url), CATALOG)
    (policy,) = generated.policies
    assert policy["metadata"]["name"] == "no-host-network-rule-1"
    assert policy["metadata"]["labels"]["patternpolicy.io/pattern"] == "no-host-network"
    assert policy["metadata"]["labels"]["patternpolicy.io/pattern-generation"] == "2"


def test_unknown_kind_is_fed_back_with_the_thinking_blocks_unchanged() -> None:
    wrong = copy.deepcopy(GOOD_ANSWER)
    wrong["rules"][0]["kinds"] = ["FancyDeployment"]
    with fake_anthropic(tool_use(wrong), tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert result.enforceable and result.attempts == 2, (result.reason, server.refusals)
    second = server.requests[1]["json"]["messages"]
    first_reply = second[1]["content"]
    assert [b["type"] for b in first_reply] == ["thinking", "tool_use"]  # adaptive thinking is on by default
    feedback = second[-1]["content"][0]
    assert feedback["type"] == "tool_result" and feedback["is_error"] is True
    assert feedback["tool_use_id"] == first_reply[1]["id"]
    assert "'FancyDeployment' is not served" in feedback["content"]
    assert server.refusals == []  # the double checked the signature and the conversation it is bound to


def test_redacted_thinking_goes_back_unchanged_too() -> None:
    wrong = copy.deepcopy(GOOD_ANSWER)
    wrong["rules"][0]["kinds"] = ["FancyDeployment"]
    first = tool_use(wrong)
    first.redacted = True
    with fake_anthropic(first, tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert result.enforceable, server.refusals
    assert [b["type"] for b in server.requests[1]["json"]["messages"][1]["content"]] == [
        "thinking", "redacted_thinking", "tool_use"]


def test_a_text_only_reply_is_a_feedback_round() -> None:
    with fake_anthropic(text_only("Here is a policy: deny hostNetwork."), tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert result.enforceable and result.attempts == 2
    messages = server.requests[1]["json"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[-1]["content"][0]["type"] == "text"
    assert "call the propose_rules tool" in messages[-1]["content"][0]["text"]
    assert result.input_tokens > server.requests[0]["json"]["max_tokens"] // 1000  # summed over both calls
    assert server.refusals == []


def test_unparseable_cel_is_fed_back() -> None:
    broken = copy.deepcopy(GOOD_ANSWER)
    broken["rules"][0]["validations"][0]["expression"] = "object.spec &&& true"
    with fake_anthropic(tool_use(broken), tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert result.enforceable
    assert "CEL does not parse" in server.requests[1]["json"]["messages"][-1]["content"][0]["content"]


def test_garbage_answers_fail_after_the_attempt_budget_with_reasons() -> None:
    with fake_anthropic(text_only("Sure! Here is a policy..."), tool_use({"rules": "nope"}),
                        tool_use({"enforceable": True, "rules": []})) as server:
        result = analyzer(server.url, attempts=3).analyze(PATTERN, CATALOG, DISCOVERY)
    assert not result.enforceable
    assert result.reason.startswith("model output failed validation after 3 attempts")
    assert "at least one rule" in result.reason
    assert len(server.requests) == 3 and server.refusals == []


def test_not_enforceable_is_a_reasoned_decline() -> None:
    answer = {"enforceable": False, "reason": "a preference, not a rule", "rules": []}
    with fake_anthropic(tool_use(answer)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert not result.enforceable and "a preference, not a rule" in result.reason


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_in_the_capability_table_accepts_the_request_we_send(model: str) -> None:
    """The client's table and the double's documented rules agree: no model gets a parameter it refuses."""
    assert model in SERVED
    wrong = copy.deepcopy(GOOD_ANSWER)
    wrong["rules"][0]["kinds"] = ["FancyDeployment"]
    with fake_anthropic(tool_use(wrong), tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url, model=model).analyze(PATTERN, CATALOG, DISCOVERY)
    assert server.refusals == [] and result.enforceable
    # Two tools: where forcing is allowed it is `any`, so that the model may still look kinds up.
    forced = server.requests[0]["json"]["tool_choice"]["type"] == "any"
    assert forced == (SERVED[model].forced_tool_use and not SERVED[model].thinking_by_default)
    assert server.requests[0]["json"]["tool_choice"]["type"] in ("any", "auto")


@pytest.mark.parametrize("model", ["claude-3-opus-20240229", "claude-sonnet-9"])
def test_a_retired_or_unknown_model_is_a_clear_error_and_not_asked_again(model: str) -> None:
    with fake_anthropic(tool_use(GOOD_ANSWER)) as server:
        client = analyzer(server.url, model=model)
        with pytest.raises(ModelRejected, match=rf"model '{model}' is not served .* set PATTERNPOLICY_MODEL"):
            client.analyze(PATTERN, CATALOG, DISCOVERY)
        with pytest.raises(ModelRejected, match="HTTP 404 not_found_error"):
            client.analyze(PATTERN, CATALOG, DISCOVERY)
    assert len(server.requests) == 1  # neither retried by the SDK nor asked again for the next pattern


def test_an_invalid_request_is_rejected_not_retried() -> None:
    with fake_anthropic(error(400, "invalid_request_error", "messages.0: something is off")) as server, \
            pytest.raises(ModelRejected, match=r"rejected the request .*HTTP 400 invalid_request_error: messages"):
        analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert len(server.requests) == 1


def test_rate_limit_with_retry_after_is_retried() -> None:
    with fake_anthropic(error(429, "rate_limit_error", "slow down", **{"retry-after": "0"}),
                        tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert result.enforceable
    assert len(server.requests) == 2


def test_persistent_rate_limit_is_reported_as_unavailable() -> None:
    steps = [error(429, "rate_limit_error", "slow down", **{"retry-after": "0"})] * 3
    with fake_anthropic(*steps) as server, pytest.raises(ModelUnavailable, match="rate limited"):
        analyzer(server.url, retries=2).analyze(PATTERN, CATALOG, DISCOVERY)
    assert len(server.requests) == 3


def test_overloaded_is_retried_then_reported_as_unavailable() -> None:
    overloaded = error(529, "overloaded_error", "Overloaded", **{"retry-after": "0"})
    with fake_anthropic(overloaded, tool_use(GOOD_ANSWER)) as server:
        assert analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY).enforceable
    with fake_anthropic(overloaded, overloaded) as server, \
            pytest.raises(ModelUnavailable, match=r"HTTP 529 \(overloaded_error: Overloaded\)"):
        analyzer(server.url, retries=1).analyze(PATTERN, CATALOG, DISCOVERY)
    assert len(server.requests) == 2


def test_timeout_is_reported_as_unavailable() -> None:
    slow = tool_use(GOOD_ANSWER)
    slow.delay = 2.0
    with fake_anthropic(slow) as server, pytest.raises(ModelUnavailable, match=r"did not answer within 0\.5s"):
        analyzer(server.url, timeout=0.5, retries=0).analyze(PATTERN, CATALOG, DISCOVERY)


def test_server_errors_and_bad_keys_are_worded_for_people() -> None:
    with fake_anthropic(error(500, "api_error", "boom")) as server, pytest.raises(ModelUnavailable, match="HTTP 500"):
        analyzer(server.url, retries=0).analyze(PATTERN, CATALOG, DISCOVERY)
    with fake_anthropic(tool_use(GOOD_ANSWER), key="another-key") as server, \
            pytest.raises(ModelRejected, match=r"API key was rejected .* PATTERNPOLICY_ANTHROPIC_API_KEY"):
        analyzer(server.url, retries=0).analyze(PATTERN, CATALOG, DISCOVERY)


def test_unreachable_endpoint() -> None:
    with fake_anthropic() as server:
        url = server.url
    with pytest.raises(ModelUnavailable, match="cannot reach"):
        analyzer(url, retries=0, timeout=2).analyze(PATTERN, CATALOG, DISCOVERY)


def test_a_retry_of_the_same_generation_reuses_the_answer() -> None:
    from patternpolicy.analysis.memo import MemoizedAnalyzer

    with fake_anthropic(tool_use(GOOD_ANSWER)) as server:
        memo = MemoizedAnalyzer(analyzer(server.url))
        first = memo.analyze(PATTERN, CATALOG, DISCOVERY)
        again = memo.analyze(PATTERN, CATALOG, DISCOVERY)
    assert first.enforceable and again == first
    assert len(server.requests) == 1
