"""The Messages API double refuses what the real API refuses, so that a regression in our requests fails a test.

Raw HTTP here (no SDK, no client code): each test sends a request shape and reads the status and the
documented error body back.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.support.fake_anthropic import KEY, FakeAnthropic, fake_anthropic, look_up, text_only, together, tool_use

TOOL = {"name": "propose_rules", "description": "d", "input_schema": {"type": "object", "properties": {}}}


def post(server: FakeAnthropic, body: dict[str, Any], key: str = KEY) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/messages", json=body, timeout=10,
                      headers={"x-api-key": key, "anthropic-version": "2023-06-01"})


def request(model: str = "claude-sonnet-5-5", **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 4096, "system": "s", "tools": [TOOL],
            "messages": [{"role": "user", "content": "a pattern"}], **extra}


def refused(response: httpx.Response, status: int, kind: str, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == kind
    assert words in body["error"]["message"], body


@pytest.mark.parametrize("model", ["claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5", "claude-fable-5-1"])
@pytest.mark.parametrize("choice", [{"type": "tool", "name": "propose_rules"}, {"type": "any"}])
def test_the_old_request_shape_forced_tool_use_is_refused(model: str, choice: dict[str, str]) -> None:
    with fake_anthropic(tool_use({})) as server:
        refused(post(server, request(model, tool_choice=choice)), 400, "invalid_request_error", "forced tool use")
        assert server.script, "a refused request consumes no scripted answer"


def test_forced_tool_use_is_accepted_where_documented_only_while_thinking_is_off() -> None:
    with fake_anthropic(tool_use({}), tool_use({})) as server:
        forced = {"type": "tool", "name": "propose_rules"}
        ok = post(server, request("claude-haiku-4-5", tool_choice=forced))
        assert ok.status_code == 200 and [b["type"] for b in ok.json()["content"]] == ["tool_use"]
        refused(post(server, request("claude-haiku-4-5", tool_choice=forced,
                                     thinking={"type": "enabled", "budget_tokens": 2000})),
                400, "invalid_request_error", "Thinking may not be enabled")
        refused(post(server, request("claude-sonnet-5", tool_choice=forced)), 400, "invalid_request_error",
                "Thinking may not be enabled")  # adaptive thinking is Sonnet 5's default
        assert post(server, request("claude-sonnet-5", tool_choice=forced, thinking={"type": "disabled"})).is_success


def test_thinking_disabled_is_refused_where_documented() -> None:
    with fake_anthropic(text_only("x")) as server:
        refused(post(server, request(thinking={"type": "disabled"})), 400, "invalid_request_error", "between_tools")
        refused(post(server, request("claude-opus-5-5", thinking={"type": "disabled"})), 400,
                "invalid_request_error", "cannot be disabled")
        assert post(server, request(thinking={"type": "between_tools"})).is_success


@pytest.mark.parametrize("model", [
    "claude-3-opus-20240229", "claude-sonnet-4-5-20250929", "claude-sonnet-5-6", "claude-test"])
def test_retired_or_unknown_models_are_not_found(model: str) -> None:
    with fake_anthropic(text_only("x")) as server:
        refused(post(server, request(model)), 404, "not_found_error", model)


def test_bad_key_and_max_tokens_over_the_model_limit() -> None:
    with fake_anthropic(text_only("x")) as server:
        refused(post(server, request(), key="nope"), 401, "authentication_error", "x-api-key")
        refused(post(server, request("claude-haiku-4-5", max_tokens=100_000)), 400, "invalid_request_error",
                "maximum allowed number of output tokens")


def conversation(server: FakeAnthropic) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first reply (thinking + tool_use) and the well-formed next request that answers it."""
    first = post(server, request()).json()
    thinking, call = first["content"]
    assert thinking["type"] == "thinking" and thinking["signature"] and call["type"] == "tool_use"
    follow = request()
    follow["messages"] += [{"role": "assistant", "content": first["content"]},
                           {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
                                                         "is_error": True, "content": "fix it"}]}]
    return first, follow


def test_thinking_blocks_must_come_back_unchanged_and_in_their_conversation() -> None:
    with fake_anthropic(tool_use({}), text_only("ok"), tool_use({}), text_only("ok")) as server:
        _, follow = conversation(server)
        altered = copy.deepcopy(follow)
        altered["messages"][1]["content"][0]["thinking"] += " (edited)"
        refused(post(server, altered), 400, "invalid_request_error", "Invalid `signature` in `thinking` block")
        missing = copy.deepcopy(follow)
        del missing["messages"][1]["content"][0]
        refused(post(server, missing), 400, "invalid_request_error", "Expected `thinking` or `redacted_thinking`")
        moved = copy.deepcopy(follow)
        moved["messages"][0]["content"] = "another pattern"
        refused(post(server, moved), 400, "invalid_request_error", "bound to a different conversation")
        other_model = copy.deepcopy(follow)
        other_model["model"] = "claude-opus-5-5"
        refused(post(server, other_model), 400, "invalid_request_error", "Invalid `signature`")
        assert post(server, follow).is_success
        _, again = conversation(server)
        assert post(server, again).is_success


def test_tool_results_must_match_tool_uses() -> None:
    with fake_anthropic(tool_use({}), text_only("ok")) as server:
        _, follow = conversation(server)
        stray = copy.deepcopy(follow)
        stray["messages"][2]["content"][0]["tool_use_id"] = "toolu_other"
        refused(post(server, stray), 400, "invalid_request_error", "unexpected `tool_use_id`")
        unanswered = copy.deepcopy(follow)
        unanswered["messages"][2]["content"] = [{"type": "text", "text": "fix it"}]
        refused(post(server, unanswered), 400, "invalid_request_error", "without `tool_result` blocks")
        prefill = copy.deepcopy(follow)
        prefill["messages"] = prefill["messages"][:2]
        refused(post(server, prefill), 400, "invalid_request_error", "prefill")
        orphan = request()
        orphan["messages"] = [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x",
                                                            "content": "?"}]}]
        refused(post(server, orphan), 400, "invalid_request_error", "unexpected `tool_use_id`")
        assert post(server, follow).is_success


LOOKUP = {"name": "look_up_kinds", "description": "d", "input_schema": {"type": "object", "properties": {}}}


@pytest.mark.parametrize(("tools", "words"), [
    ([{**TOOL, "name": "propose rules"}], "tools.0.custom.name: String should match pattern"),
    ([TOOL, {**LOOKUP, "name": "x" * 129}], "tools.1.custom.name"),
    ([{**TOOL, "input_schema": {"type": "array"}}], "tools.0.custom.input_schema"),
    ([{"name": "propose_rules", "description": "d"}], "tools.0.custom.input_schema"),
    ([TOOL, {**LOOKUP, "name": "propose_rules"}], "Tool names must be unique"),
])
def test_tool_definitions_are_checked(tools: list[dict[str, Any]], words: str) -> None:
    with fake_anthropic(text_only("x")) as server:
        refused(post(server, {**request(), "tools": tools}), 400, "invalid_request_error", words)
        assert post(server, {**request(), "tools": [TOOL, LOOKUP]}).is_success


def test_every_tool_use_of_a_turn_is_answered_first_in_the_next_user_message() -> None:
    with fake_anthropic(together(look_up(["Pod"]), tool_use({})), text_only("ok")) as server:
        first = post(server, {**request(), "tools": [TOOL, LOOKUP]}).json()
        calls = [b for b in first["content"] if b["type"] == "tool_use"]
        assert [c["name"] for c in calls] == ["look_up_kinds", "propose_rules"]
        results = [{"type": "tool_result", "tool_use_id": c["id"], "content": "r"} for c in calls]

        def follow(content: list[dict[str, Any]]) -> dict[str, Any]:
            body = {**request(), "tools": [TOOL, LOOKUP]}
            body["messages"] = [*body["messages"], {"role": "assistant", "content": first["content"]},
                                {"role": "user", "content": content}]
            return body

        # A conversation that leaves one tool_use unanswered is refused, naming the id left open.
        response = post(server, follow(results[:1]))
        refused(response, 400, "invalid_request_error", "`tool_use` ids were found without `tool_result` blocks")
        assert calls[1]["id"] in response.json()["error"]["message"]
        refused(post(server, follow([{"type": "text", "text": "here:"}, *results])), 400, "invalid_request_error",
                "Did not find 2 tool_result block(s) at the beginning of this message")
        assert post(server, follow([*results, {"type": "text", "text": "and one more thing"}])).is_success
