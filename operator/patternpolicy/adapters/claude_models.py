"""What each served Claude model accepts on the Messages API, so that no request carries a parameter it rejects.

Sources (Anthropic's documentation, read for this table; re-read them when a model is added):
- "Models overview": current ids, thinking mode (adaptive, always on, extended), max output.
- "What's new in Claude Sonnet 5.5" and "What's new in Claude Opus 5.5": forced tool use (`tool_choice`
  of type `tool` or `any`) returns 400 invalid_request_error on Claude Sonnet 5.5, Opus 5.5 and the
  Fable models (the Opus page: "the first three also apply on Claude Fable 5.1"); adaptive thinking is
  on by default; on Sonnet 5.5 `thinking: {"type": "disabled"}` is a 400 that points to
  `between_tools`; on Opus 5.5 thinking cannot be disabled at all; thinking blocks are tied to the
  model and the conversation and must be passed back unchanged.
- "Building with extended thinking" (feature compatibility): thinking is not compatible with forced
  tool use, so on older models forcing the tool is only valid while thinking is off.
- "Structured outputs": generally available for Claude Opus 4.6, Sonnet 4.6, Sonnet 4.5, Opus 4.5 and
  Haiku 4.5 (the models it lists; the others are marked False here, meaning "not documented").
- "Model IDs and versioning" (dateless ids from the 4.6 generation), "Model deprecations" (a retired
  model's requests fail: 404 not_found_error, see "Claude API errors").
- Claude Sonnet 5 model page: legacy, still available, `claude-sonnet-5`. The model ids the anthropic SDK
  2.16 lists match the served ids below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lifecycle = Literal["current", "legacy", "deprecated"]


@dataclass(frozen=True)
class ModelCapabilities:
    model: str
    lifecycle: Lifecycle
    thinking_by_default: bool          # a request without `thinking` gets thinking blocks back
    thinking_types: frozenset[str]     # accepted values of `thinking.type`
    forced_tool_use: bool              # `tool_choice` tool/any accepted (only ever while thinking is off)
    structured_outputs: bool           # `output_config.format` documented for this model
    max_output_tokens: int

    @property
    def may_force_tool(self) -> bool:
        """Forcing tool use is valid only where it is accepted and no thinking runs by default."""
        return self.forced_tool_use and not self.thinking_by_default


def _adaptive_only(model: str, lifecycle: Lifecycle = "current") -> ModelCapabilities:
    return ModelCapabilities(model, lifecycle, thinking_by_default=True, thinking_types=frozenset({"adaptive"}),
                             forced_tool_use=False, structured_outputs=False, max_output_tokens=128_000)


MODELS: dict[str, ModelCapabilities] = {m.model: m for m in (
    # Current lineup ("Models overview").
    _adaptive_only("claude-fable-5-2"),
    _adaptive_only("claude-fable-5-1"),
    _adaptive_only("claude-opus-5-5"),
    ModelCapabilities("claude-sonnet-5-5", "current", thinking_by_default=True,
                      thinking_types=frozenset({"adaptive", "between_tools"}), forced_tool_use=False,
                      structured_outputs=False, max_output_tokens=128_000),
    _adaptive_only("claude-haiku-5-5"),
    # Legacy, still served.
    ModelCapabilities("claude-sonnet-5", "legacy", thinking_by_default=True,
                      thinking_types=frozenset({"adaptive", "disabled"}), forced_tool_use=True,
                      structured_outputs=False, max_output_tokens=128_000),
    ModelCapabilities("claude-opus-5", "legacy", thinking_by_default=True,
                      thinking_types=frozenset({"adaptive", "disabled"}), forced_tool_use=True,
                      structured_outputs=False, max_output_tokens=128_000),
    *(ModelCapabilities(m, "legacy", thinking_by_default=False, thinking_types=frozenset({"adaptive", "disabled"}),
                        forced_tool_use=True, structured_outputs=False, max_output_tokens=128_000)
      for m in ("claude-opus-4-8", "claude-opus-4-7")),
    ModelCapabilities("claude-opus-4-6", "legacy", thinking_by_default=False,
                      thinking_types=frozenset({"adaptive", "enabled", "disabled"}), forced_tool_use=True,
                      structured_outputs=True, max_output_tokens=128_000),
    ModelCapabilities("claude-sonnet-4-6", "legacy", thinking_by_default=False,
                      thinking_types=frozenset({"adaptive", "enabled", "disabled"}), forced_tool_use=True,
                      structured_outputs=True, max_output_tokens=64_000),
    *(ModelCapabilities(m, "deprecated" if "opus" in m else "legacy", thinking_by_default=False,
                        thinking_types=frozenset({"enabled", "disabled"}), forced_tool_use=True,
                        structured_outputs=True, max_output_tokens=64_000)
      for m in ("claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-opus-4-5", "claude-opus-4-5-20251101")),
    # Opus 4.5: deprecated, end of life January 2027 (the SDK warns). Retired, hence absent (requests fail
    # with 404): Claude Sonnet 4.5 (September 2026), Sonnet 4 and Opus 4 (June 2026), the 3.x models.
)}

DEFAULT_MODEL = "claude-sonnet-5-5"  # the current Sonnet ("Models overview")

# An id we have no row for (a newer model, a proxy's alias): assume the strictest documented contract,
# which every current model accepts: no forced tool use, no `thinking` parameter, a modest max_tokens.
UNKNOWN = ModelCapabilities("unknown", "current", thinking_by_default=True, thinking_types=frozenset({"adaptive"}),
                            forced_tool_use=False, structured_outputs=False, max_output_tokens=32_000)


def capabilities(model: str) -> ModelCapabilities:
    return MODELS.get(model, UNKNOWN)
