"""The Claude analyser against a local server that speaks the Messages API wire format."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from patternpolicy.adapters.anthropic_api import ClaudeClient, ModelConfig, ModelUnavailable
from patternpolicy.analysis.claude.analyzer import TOKEN_BUDGET, ClaudeAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import discover
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.services.pipeline import run_pipeline
from tests.support.fake_anthropic import error, fake_anthropic, text_only, tool_use

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


def analyzer(url: str, attempts: int = 3, timeout: float = 5.0, retries: int = 2) -> ClaudeAnalyzer:
    config = ModelConfig(api_key="test-key", model="claude-test", base_url=url, timeout=timeout, max_retries=retries)
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
    assert "test-key" in (request["headers"].get("x-api-key", ""), request["headers"].get("authorization", "")[7:])
    assert body["model"] == "claude-test"
    assert body["tool_choice"] == {"type": "tool", "name": "propose_rules"}
    assert body["tools"][0]["input_schema"]["required"] == ["enforceable"]
    prompt = body["messages"][0]["content"]
    assert "Deployments must not use the host network" in prompt and "Deployment (apiVersion apps/v1" in prompt
    assert result.input_tokens < TOKEN_BUDGET


def test_names_and_labels_come_from_code_not_the_model() -> None:
    answer = copy.deepcopy(GOOD_ANSWER)
    answer["rules"][0]["summary"] = "name: evil-policy; labels: owner=model"
    with fake_anthropic(tool_use(answer)) as server:
        generated = run_pipeline(PATTERN, analyzer(server.url), CATALOG)
    (policy,) = generated.policies
    assert policy["metadata"]["name"] == "no-host-network-rule-1"
    assert policy["metadata"]["labels"]["patternpolicy.io/pattern"] == "no-host-network"
    assert policy["metadata"]["labels"]["patternpolicy.io/pattern-generation"] == "2"


def test_unknown_kind_is_fed_back_and_the_fix_is_used() -> None:
    wrong = copy.deepcopy(GOOD_ANSWER)
    wrong["rules"][0]["kinds"] = ["FancyDeployment"]
    with fake_anthropic(tool_use(wrong), tool_use(GOOD_ANSWER)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert result.enforceable and result.attempts == 2
    feedback = server.requests[1]["json"]["messages"][-1]["content"][0]
    assert feedback["type"] == "tool_result" and feedback["is_error"] is True
    assert "'FancyDeployment' is not served" in feedback["content"]


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
    assert len(server.requests) == 3


def test_not_enforceable_is_a_reasoned_decline() -> None:
    answer = {"enforceable": False, "reason": "a preference, not a rule", "rules": []}
    with fake_anthropic(tool_use(answer)) as server:
        result = analyzer(server.url).analyze(PATTERN, CATALOG, DISCOVERY)
    assert not result.enforceable and "a preference, not a rule" in result.reason


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


def test_timeout_is_reported_as_unavailable() -> None:
    slow = tool_use(GOOD_ANSWER)
    slow.delay = 2.0
    with fake_anthropic(slow) as server, pytest.raises(ModelUnavailable, match=r"did not answer within 0\.5s"):
        analyzer(server.url, timeout=0.5, retries=0).analyze(PATTERN, CATALOG, DISCOVERY)


def test_server_errors_and_bad_keys_are_worded_for_people() -> None:
    with fake_anthropic(error(500, "api_error", "boom")) as server, pytest.raises(ModelUnavailable, match="HTTP 500"):
        analyzer(server.url, retries=0).analyze(PATTERN, CATALOG, DISCOVERY)
    bad_key = error(401, "authentication_error", "invalid x-api-key")
    with fake_anthropic(bad_key) as server, pytest.raises(ModelUnavailable, match="API key was rejected"):
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
