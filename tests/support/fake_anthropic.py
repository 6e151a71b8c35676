"""A local HTTP server speaking the Anthropic Messages API wire format, scripted per test.

Only the remote service is replaced: the real anthropic SDK and our client code run unchanged against
it, and the server refuses what the real API refuses, with the same status codes and error bodies
(`{"type": "error", "error": {"type": ..., "message": ...}}`, "Claude API errors"). Its rules are
written here from Anthropic's documentation, independently of the client's own capability table, so
that a request shape the API rejects fails a test:

- "Models overview", "Model deprecations": an id that is not served (retired or unknown) is a
  404 not_found_error.
- "What's new in Claude Sonnet 5.5" / "What's new in Claude Opus 5.5": forced tool use (`tool_choice`
  `tool` or `any`) is a 400 invalid_request_error on Sonnet 5.5, Opus 5.5, Haiku 5.5 and the Fable
  models; adaptive thinking is on by default; `thinking: {"type": "disabled"}` is a 400 on Sonnet 5.5
  (pointing to `between_tools`) and thinking cannot be turned off on Opus 5.5 and Fable; thinking blocks
  are signed, tied to the model and the conversation, and must come back unchanged.
- "Building with extended thinking": forced tool use is incompatible with thinking on older models;
  with thinking on, an assistant turn starts with its thinking blocks.
- "Define tools" (https://platform.claude.com/docs/en/agents-and-tools/tool-use/define-tools): a tool's
  `name` must match ^[a-zA-Z0-9_-]{1,128}$ (the page's current limit) and its `input_schema` is a JSON
  Schema object; names are unique within `tools`.
- "Handle tool calls" (https://platform.claude.com/docs/en/agents-and-tools/tool-use/handle-tool-calls):
  each `tool_use` needs a `tool_result` (same id) in the immediately following user message, whose
  content starts with the tool_result blocks (text may only follow them); each `tool_result` must answer
  a `tool_use` of the previous assistant message. The error messages are the API's own, as reported in
  public bug threads (anthropics/claude-code#3632, apify/tester-mcp-client#12).
- "Claude API errors": 401 authentication_error, 429 rate_limit_error (with retry-after),
  500 api_error, 529 overloaded_error; scripted per test with `error()`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from patternpolicy.adapters.loopback import Answer, Posted, loopback_server

KEY = "test-key"
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_CALLS = itertools.count(1)
_SECRET = b"fake-anthropic-signing-key"


@dataclass(frozen=True)
class Rules:
    thinking_types: frozenset[str]
    thinking_by_default: bool
    forced_tool_use: bool
    max_output: int
    bound_thinking: bool = False  # "thinking blocks are tied to the model and the conversation"
    disabled_hint: str = ""


def _current(types: frozenset[str], hint: str) -> Rules:
    return Rules(types, thinking_by_default=True, forced_tool_use=False, max_output=128_000, bound_thinking=True,
                 disabled_hint=hint)


_ALWAYS_ON = "thinking is always on for this model and cannot be disabled; omit `thinking` or send adaptive"
SERVED: dict[str, Rules] = {
    "claude-sonnet-5-5": _current(frozenset({"adaptive", "between_tools"}),
                                  "use `between_tools` to turn off up-front thinking on this model"),
    "claude-opus-5-5": _current(frozenset({"adaptive"}), _ALWAYS_ON),
    "claude-haiku-5-5": _current(frozenset({"adaptive"}), _ALWAYS_ON),
    "claude-fable-5-1": _current(frozenset({"adaptive"}), _ALWAYS_ON),
    "claude-fable-5-2": _current(frozenset({"adaptive"}), _ALWAYS_ON),
    "claude-sonnet-5": Rules(frozenset({"adaptive", "disabled"}), True, True, 128_000),
    "claude-opus-5": Rules(frozenset({"adaptive", "disabled"}), True, True, 128_000),
    "claude-opus-4-8": Rules(frozenset({"adaptive", "disabled"}), False, True, 128_000),
    "claude-opus-4-7": Rules(frozenset({"adaptive", "disabled"}), False, True, 128_000),
    "claude-opus-4-6": Rules(frozenset({"adaptive", "enabled", "disabled"}), False, True, 128_000),
    "claude-sonnet-4-6": Rules(frozenset({"adaptive", "enabled", "disabled"}), False, True, 64_000),
    **{m: Rules(frozenset({"enabled", "disabled"}), False, True, 64_000)
       for m in ("claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-opus-4-5", "claude-opus-4-5-20251101")},
}


class Refused(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


@dataclass
class Step:
    status: int = 200
    body: dict[str, Any] | None = None  # an error body (status != 200)
    content: list[dict[str, Any]] = field(default_factory=list)  # the reply, after the thinking blocks
    stop_reason: str = "end_turn"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    redacted: bool = False  # add a redacted_thinking block, which must come back unchanged too


def tool_use(tool_input: dict[str, Any], name: str = "propose_rules") -> Step:
    # Ids are unique, as the API's are: the same question asked twice is two calls to answer.
    seed = json.dumps([name, tool_input, next(_CALLS)], sort_keys=True)
    ident = f"toolu_{hashlib.sha256(seed.encode()).hexdigest()[:12]}"
    return Step(content=[{"type": "tool_use", "id": ident, "name": name, "input": tool_input}],
                stop_reason="tool_use")


def look_up(names: list[str] | None = None, describe: str = "", under: str = "") -> Step:
    """A reply that calls the kind lookup tool."""
    return tool_use({k: v for k, v in (("names", names), ("describe", describe), ("under", under)) if v},
                    name="look_up_kinds")


def together(*steps: Step) -> Step:
    """One reply carrying the tool calls of several steps (parallel tool use)."""
    return Step(content=[block for step in steps for block in step.content], stop_reason="tool_use")


def text_only(text: str) -> Step:
    return Step(content=[{"type": "text", "text": text}])


def error(status: int, kind: str, message: str, **headers: str) -> Step:
    return Step(status=status, body={"type": "error", "error": {"type": kind, "message": message}},
                headers=headers)


@dataclass
class FakeAnthropic:
    url: str
    script: list[Step]
    requests: list[dict[str, Any]]  # every request received, refused ones included
    refusals: list[dict[str, Any]] = field(default_factory=list)  # the error bodies sent for contract breaches


def _mac(*parts: Any) -> str:
    data = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(hmac.new(_SECRET, data, hashlib.sha256).digest()[:18]).decode()


def _prefix(body: dict[str, Any], upto: int) -> str:
    """What a thinking block is bound to: system, tools and the turns before it."""
    return _mac(body.get("system"), body.get("tools"), body["messages"][:upto])


def _signature(model: str, text: str, prefix: str) -> str:
    return f"{_mac(model, text)}.{prefix}"


def _thinking_on(body: dict[str, Any], rules: Rules) -> bool:
    kind = (body.get("thinking") or {}).get("type")
    return rules.thinking_by_default if kind is None else kind != "disabled"


def validate(body: dict[str, Any]) -> Rules:
    """Refuses (raises Refused) what the documented API refuses; returns the model's rules."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise Refused(400, "invalid_request_error", "model: Field required")
    rules = SERVED.get(model)
    if rules is None:
        raise Refused(404, "not_found_error", f"model: {model}")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise Refused(400, "invalid_request_error", "max_tokens: Field required")
    if max_tokens > rules.max_output:
        raise Refused(400, "invalid_request_error", f"max_tokens: {max_tokens} > {rules.max_output}, which is the "
                                                    f"maximum allowed number of output tokens for {model}")
    thinking = body.get("thinking")
    if thinking is not None and thinking.get("type") not in rules.thinking_types:
        hint = f": {rules.disabled_hint}" if thinking.get("type") == "disabled" and rules.disabled_hint else ""
        raise Refused(400, "invalid_request_error",
                      f"thinking.type: {thinking.get('type')!r} is not supported on {model}{hint}")
    _check_tools(body, model, rules)
    _check_messages(body, model, rules)
    return rules


def _check_tools(body: dict[str, Any], model: str, rules: Rules) -> None:
    tools = body.get("tools") or []
    for i, tool in enumerate(tools):
        if not isinstance(tool.get("name"), str) or not _TOOL_NAME.match(tool["name"]):
            raise Refused(400, "invalid_request_error",
                          f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise Refused(400, "invalid_request_error",
                          f"tools.{i}.custom.input_schema: a JSON Schema object with type 'object' is required")
    names = [t.get("name") for t in tools]
    if len(set(names)) != len(names):
        raise Refused(400, "invalid_request_error", "tools: Tool names must be unique.")
    choice = body.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type")
    if kind not in ("auto", "any", "tool", "none"):
        raise Refused(400, "invalid_request_error", f"tool_choice.type: unknown value {kind!r}")
    if kind in ("any", "tool"):
        if not rules.forced_tool_use:
            raise Refused(400, "invalid_request_error", f"tool_choice: forced tool use (type {kind!r}) is not "
                                                        f"supported on {model}; use tool_choice auto")
        if _thinking_on(body, rules):
            raise Refused(400, "invalid_request_error",
                          "Thinking may not be enabled when tool_choice forces tool use.")
        if kind == "tool" and choice.get("name") not in names:
            raise Refused(400, "invalid_request_error", f"tool_choice.name: no tool named {choice.get('name')!r}")


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])


def _check_messages(body: dict[str, Any], model: str, rules: Rules) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Refused(400, "invalid_request_error", "messages: at least one message is required")
    if messages[0].get("role") != "user":
        raise Refused(400, "invalid_request_error", "messages.0.role: the first message must use the user role")
    if messages[-1].get("role") != "user":
        raise Refused(400, "invalid_request_error",
                      "This model does not support assistant message prefill. The conversation must end with a "
                      "user message.")
    thinking = _thinking_on(body, rules)
    previous_calls: set[str] = set()
    for i, message in enumerate(messages):
        role, blocks = message.get("role"), _blocks(message)
        if role not in ("user", "assistant") or not blocks:
            raise Refused(400, "invalid_request_error",
                          f"messages.{i}: all messages must have a role of user or assistant and non-empty content")
        answered = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if role == "user":
            leading = next((j for j, b in enumerate(blocks) if b.get("type") != "tool_result"), len(blocks))
            if previous_calls and leading < len(previous_calls) and answered >= previous_calls:
                raise Refused(400, "invalid_request_error", (
                    f"messages.{i}: Did not find {len(previous_calls)} tool_result block(s) at the beginning of "
                    "this message. Messages following tool_use blocks must begin with a matching number of "
                    "tool_result blocks."))
            for j, b in enumerate(blocks):
                if b.get("type") == "tool_result" and b.get("tool_use_id") not in previous_calls:
                    raise Refused(400, "invalid_request_error", (
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{b.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message."))
            if previous_calls - answered:
                raise Refused(400, "invalid_request_error", (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(sorted(previous_calls - answered))}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message."))
            previous_calls = set()
            continue
        if previous_calls:
            raise Refused(400, "invalid_request_error", (
                f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(sorted(previous_calls))}."))
        previous_calls = {str(b.get("id")) for b in blocks if b.get("type") == "tool_use"}
        if thinking:
            _check_thinking(body, model, rules, i, blocks)


def _check_thinking(body: dict[str, Any], model: str, rules: Rules, i: int, blocks: list[dict[str, Any]]) -> None:
    if blocks[0].get("type") not in ("thinking", "redacted_thinking"):
        raise Refused(400, "invalid_request_error", (
            f"messages.{i}.content.0: Expected `thinking` or `redacted_thinking`, but found "
            f"`{blocks[0].get('type')}`. When `thinking` is enabled, an assistant message must start with the "
            "thinking blocks the model returned, passed back unchanged."))
    prefix = _prefix(body, i)
    for j, b in enumerate(blocks):
        if b.get("type") not in ("thinking", "redacted_thinking"):
            continue
        if b["type"] == "thinking":  # signature "<mac of model and text>.<mac of the conversation before it>"
            text, signed = b.get("thinking"), str(b.get("signature", ""))
        else:  # data "<opaque payload>:<mac of model and payload>.<mac of the conversation before it>"
            text, _, signed = str(b.get("data", "")).partition(":")
        mac, _, bound = signed.partition(".")
        if not mac or not hmac.compare_digest(mac, _mac(model, text)):
            raise Refused(400, "invalid_request_error",
                          f"messages.{i}.content.{j}: Invalid `signature` in `{b['type']}` block.")
        if rules.bound_thinking and bound != prefix:
            raise Refused(400, "invalid_request_error", (
                f"messages.{i}.content.{j}: Invalid `signature` in `{b['type']}` block. The block is bound to a "
                "different conversation."))


def reply(body: dict[str, Any], rules: Rules, step: Step, number: int) -> dict[str, Any]:
    model = body["model"]
    content: list[dict[str, Any]] = []
    if _thinking_on(body, rules):
        prefix = _prefix(body, len(body["messages"]))
        text = f"Reading the pattern (turn {len(body['messages'])})."
        content.append({"type": "thinking", "thinking": text, "signature": _signature(model, text, prefix)})
        if step.redacted:
            payload = base64.urlsafe_b64encode(f"redacted {number}".encode()).decode()
            content.append({"type": "redacted_thinking", "data": f"{payload}:{_mac(model, payload)}.{prefix}"})
    content += step.content
    prompt = len(json.dumps({k: body.get(k) for k in ("system", "tools", "messages")})) // 4
    return {"id": f"msg_{number:04d}", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": step.stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": 300}}


@contextmanager
def fake_anthropic(*steps: Step, key: str = KEY) -> Iterator[FakeAnthropic]:
    state = FakeAnthropic(url="", script=list(steps), requests=[])
    lock = threading.Lock()

    def answer(posted: Posted) -> Answer:
        try:
            payload = json.loads(posted.body or b"{}")
        except ValueError:
            payload = None
        with lock:
            state.requests.append({"path": posted.path, "json": payload, "headers": posted.headers})
            number = len(state.requests)
            step = _step(posted, payload, state, key, number)
        if step.delay:
            time.sleep(step.delay)
        return Answer(step.status, step.body or {}, {"request-id": f"req_{number:04d}", **step.headers})

    with loopback_server(answer) as url:
        state.url = url
        yield state


def _step(posted: Posted, payload: Any, state: FakeAnthropic, key: str, number: int) -> Step:
    if posted.path.split("?")[0] != "/v1/messages":
        return error(404, "not_found_error", f"Not Found: {posted.path}")
    headers = posted.headers
    if key not in (headers.get("x-api-key"), headers.get("authorization", "")[len("Bearer "):]):
        return error(401, "authentication_error", "invalid x-api-key")
    if not isinstance(payload, dict):
        return error(400, "invalid_request_error", "the request body is not valid JSON")
    try:
        rules = validate(payload)
    except Refused as exc:
        refused = error(exc.status, exc.kind, exc.message)
        state.refusals.append({"status": exc.status, "body": refused.body})
        return refused
    step = state.script.pop(0) if state.script else error(500, "api_error", "script exhausted")
    if step.status == 200 and step.body is None:
        step = Step(body=reply(payload, rules, step, number), headers=step.headers, delay=step.delay)
    return step
