"""Claude over the Messages API (the anthropic SDK), with errors worded for people."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL = "claude-sonnet-5-5"  # configurable: PATTERNPOLICY_MODEL


class ModelUnavailable(RuntimeError):
    """The model could not be asked (network, timeout, quota, credentials): retry later."""


@dataclass(frozen=True)
class ModelConfig:
    api_key: str
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    timeout: float = 60.0
    max_retries: int = 2
    max_tokens: int = 4096
    max_attempts: int = 3

    @classmethod
    def from_env(cls) -> ModelConfig | None:
        key = os.environ.get("PATTERNPOLICY_ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            return None
        return cls(
            api_key=key,
            model=os.environ.get("PATTERNPOLICY_MODEL", DEFAULT_MODEL),
            base_url=os.environ.get("PATTERNPOLICY_ANTHROPIC_BASE_URL") or os.environ.get("ANTHROPIC_BASE_URL"),
            timeout=float(os.environ.get("PATTERNPOLICY_MODEL_TIMEOUT", "60")),
            max_retries=int(os.environ.get("PATTERNPOLICY_MODEL_RETRIES", "2")),
            max_attempts=int(os.environ.get("PATTERNPOLICY_MODEL_MAX_ATTEMPTS", "3")),
        )


@dataclass
class Reply:
    content: list[dict[str, Any]]  # the assistant's content blocks, to send back in the next turn
    tool_input: dict[str, Any] | None
    tool_use_id: str | None
    input_tokens: int = 0
    text: str = field(default="")


class ClaudeClient:
    def __init__(self, config: ModelConfig) -> None:
        try:
            import anthropic
        except ImportError as exc:  # the operator image installs the `claude` extra
            raise ModelUnavailable("the anthropic package is not installed (pip install "
                                   "'pattern-policy-operator[claude]')") from exc
        self._anthropic = anthropic
        self.config = config
        self._client = anthropic.Anthropic(api_key=config.api_key, base_url=config.base_url,
                                           timeout=config.timeout, max_retries=config.max_retries)

    def ask(self, system: str, messages: list[dict[str, Any]], tool: dict[str, Any]) -> Reply:
        a = self._anthropic
        where = self.config.base_url or "the Anthropic API"
        try:
            response = self._client.messages.create(  # type: ignore[call-overload]
                model=self.config.model, max_tokens=self.config.max_tokens, system=system,
                messages=messages, tools=[tool], tool_choice={"type": "tool", "name": tool["name"]},
            )
        except a.APITimeoutError as exc:
            raise ModelUnavailable(f"the model did not answer within {self.config.timeout:g}s") from exc
        except a.APIConnectionError as exc:
            raise ModelUnavailable(f"cannot reach {where}: {exc}") from exc
        except a.AuthenticationError as exc:
            raise ModelUnavailable("the API key was rejected (check the configured secret)") from exc
        except a.RateLimitError as exc:
            raise ModelUnavailable(f"rate limited by {where} after {self.config.max_retries} retries") from exc
        except a.APIStatusError as exc:
            raise ModelUnavailable(f"{where} answered HTTP {exc.status_code}: {exc.message}") from exc
        blocks = [block.model_dump(exclude_none=True) for block in response.content]
        tool_block = next((b for b in blocks if b.get("type") == "tool_use"), None)
        text = " ".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        return Reply(content=blocks, tool_input=tool_block.get("input") if tool_block else None,
                     tool_use_id=tool_block.get("id") if tool_block else None,
                     input_tokens=int(getattr(response.usage, "input_tokens", 0) or 0), text=text)
