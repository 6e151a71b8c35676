"""Claude over the Messages API (the anthropic SDK), with errors worded for people.

Requests follow each model's documented contract (see claude_models): no forced tool use where the
model refuses it, no `thinking` parameter (each model's default applies), and the assistant's content
(thinking and redacted_thinking blocks included) is handed back exactly as the API returned it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patternpolicy.adapters.claude_models import DEFAULT_MODEL, capabilities

__all__ = ["DEFAULT_MODEL", "ClaudeClient", "ModelConfig", "ModelError", "ModelRejected", "ModelUnavailable",
           "Reply", "SDKMissing", "request_body", "request_id"]

MODEL_SETTING = "PATTERNPOLICY_MODEL"
KEY_SETTING = "PATTERNPOLICY_ANTHROPIC_API_KEY"


class ModelError(RuntimeError):
    """The model gave no usable answer; the message says why and what to do."""


class ModelUnavailable(ModelError):
    """The model could not be asked (network, timeout, rate limit, overload, 5xx): retry later."""


class ModelRejected(ModelError):
    """The API refused the request or the settings (bad key, unknown or retired model, invalid request).

    Asking again with the same settings gets the same answer: change the setting the message names.
    """


class SDKMissing(ModelRejected):
    pass


@dataclass(frozen=True)
class ModelConfig:
    api_key: str
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    timeout: float = 120.0  # adaptive thinking at the default effort takes longer than a plain answer
    max_retries: int = 2
    max_tokens: int = 16_000  # room for thinking and the tool call; capped at the model's own limit
    max_attempts: int = 3
    max_lookups: int = 2  # look_up_kinds calls per pattern, besides the max_attempts answer rounds
    record_dir: Path | None = None  # every request body (and its answer) is written here, see docs/analysers.md

    @classmethod
    def from_env(cls) -> ModelConfig | None:
        """Only called once Claude was chosen explicitly: a generic ANTHROPIC_API_KEY never selects Claude."""
        key = os.environ.get(KEY_SETTING) or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            return None
        return cls(
            api_key=key,
            model=os.environ.get(MODEL_SETTING) or DEFAULT_MODEL,
            base_url=os.environ.get("PATTERNPOLICY_ANTHROPIC_BASE_URL") or os.environ.get("ANTHROPIC_BASE_URL"),
            timeout=float(os.environ.get("PATTERNPOLICY_MODEL_TIMEOUT", "120")),
            max_retries=int(os.environ.get("PATTERNPOLICY_MODEL_RETRIES", "2")),
            max_attempts=int(os.environ.get("PATTERNPOLICY_MODEL_MAX_ATTEMPTS", "3")),
            max_lookups=int(os.environ.get("PATTERNPOLICY_MODEL_MAX_LOOKUPS", "2")),
        )


@dataclass
class Reply:
    content: list[dict[str, Any]]  # the assistant's content blocks exactly as received, for the next turn
    stop_reason: str = ""
    input_tokens: int = 0  # prompt tokens of this call (cache reads and writes included)
    output_tokens: int = 0
    request_id: str = ""

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [b for b in self.content if b.get("type") == "tool_use"]

    @property
    def text(self) -> str:
        return " ".join(str(b.get("text", "")) for b in self.content if b.get("type") == "text").strip()

    def tool_use(self, name: str) -> dict[str, Any] | None:
        return next((b for b in self.tool_uses if b.get("name") == name), None)


def request_body(model: str, max_tokens: int, system: str, messages: list[dict[str, Any]],
                 tools: list[dict[str, Any]]) -> dict[str, Any]:
    """The Messages API body. Forced tool use only where the model accepts it and thinks by default not
    (`any` when there are several tools, so that each stays callable); everywhere else `auto`, and the
    system prompt insists on the tools (a text reply is a feedback round)."""
    caps = capabilities(model)
    choice: dict[str, str] = {"type": "auto"}
    if caps.may_force_tool:
        choice = {"type": "tool", "name": tools[0]["name"]} if len(tools) == 1 else {"type": "any"}
    return {"model": model, "max_tokens": min(max_tokens, caps.max_output_tokens), "system": system,
            "messages": messages, "tools": tools, "tool_choice": choice}


_ID_KEYS = ("model", "max_tokens", "system", "messages", "tools", "tool_choice", "thinking", "output_config")


def request_id(body: dict[str, Any]) -> str:
    """A stable name for a request: the same conversation always gets the same id (record and replay)."""
    canonical = json.dumps({k: body[k] for k in _ID_KEYS if k in body}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_reply(data: dict[str, Any], rid: str = "") -> Reply:
    usage = data.get("usage") or {}
    prompt = sum(int(usage.get(k) or 0) for k in
                 ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
    content = [b for b in data.get("content") or [] if isinstance(b, dict)]
    return Reply(content=content, stop_reason=str(data.get("stop_reason") or ""), input_tokens=prompt,
                 output_tokens=int(usage.get("output_tokens") or 0), request_id=rid)


def _detail(exc: Any) -> str:
    """`type: message` from the documented error body {"type": "error", "error": {"type", "message"}}."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('message', '')}".strip()
    return str(getattr(exc, "message", exc))


@dataclass
class ClaudeClient:
    config: ModelConfig
    _fatal: str = field(default="", init=False)  # a rejection every later request would get too

    def __post_init__(self) -> None:
        try:
            import anthropic
        except ImportError as exc:
            raise SDKMissing("the Claude analyser needs the anthropic package (a dependency of "
                             "pattern-policy-operator: reinstall it)") from exc
        self._anthropic = anthropic
        self._client = anthropic.Anthropic(api_key=self.config.api_key, base_url=self.config.base_url,
                                           timeout=self.config.timeout, max_retries=self.config.max_retries)

    def ask(self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
        if self._fatal:
            raise ModelRejected(self._fatal)
        cfg = self.config
        body = request_body(cfg.model, cfg.max_tokens, system, messages, tools)
        rid = request_id(body)
        self._record(f"{rid}.request.json", body)
        try:
            raw = self._client.messages.with_raw_response.create(**body)
            data = raw.http_response.json()
        except self._anthropic.APIError as exc:
            raise self._explain(exc) from exc
        except ValueError as exc:
            raise ModelUnavailable(f"{self._where()} answered with a body that is not JSON: {exc}") from exc
        self._record(f"{rid}.answer.json", data)
        return parse_reply(data, rid)

    def _record(self, name: str, data: dict[str, Any]) -> None:
        if self.config.record_dir is not None:
            self.config.record_dir.mkdir(parents=True, exist_ok=True)
            (self.config.record_dir / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")

    def _where(self) -> str:
        return self.config.base_url or "the Anthropic API"

    def _explain(self, exc: Exception) -> ModelError:
        a, cfg, where = self._anthropic, self.config, self._where()
        if isinstance(exc, a.APITimeoutError):
            return ModelUnavailable(f"the model did not answer within {cfg.timeout:g}s "
                                    "(PATTERNPOLICY_MODEL_TIMEOUT)")
        if isinstance(exc, a.APIConnectionError):
            return ModelUnavailable(f"cannot reach {where}: {exc}")
        if not isinstance(exc, a.APIStatusError):
            return ModelUnavailable(f"{where}: {exc}")
        status, detail = exc.status_code, _detail(exc)
        if isinstance(exc, a.RateLimitError):
            return ModelUnavailable(f"rate limited by {where} after {cfg.max_retries} retries ({detail})")
        if status >= 500:  # 500 api_error, 529 overloaded_error: the SDK already retried
            return ModelUnavailable(f"{where} answered HTTP {status} ({detail}) after {cfg.max_retries} retries")
        if isinstance(exc, a.AuthenticationError):
            self._fatal = f"the API key was rejected by {where} (HTTP 401 {detail}): check {KEY_SETTING}"
        elif isinstance(exc, a.PermissionDeniedError):
            self._fatal = (f"the API key may not use model {cfg.model!r} (HTTP 403 {detail}): "
                           f"check the key's workspace or set {MODEL_SETTING}")
        elif isinstance(exc, a.NotFoundError):
            self._fatal = (f"model {cfg.model!r} is not served by {where} (HTTP 404 {detail}): it is retired or "
                           f"unknown; set {MODEL_SETTING} to a current model such as {DEFAULT_MODEL}")
        else:
            return ModelRejected(f"{where} rejected the request to model {cfg.model!r} (HTTP {status} {detail})")
        return ModelRejected(self._fatal)
