"""Choosing the analyser: Claude when a key is configured, the offline analyser otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from patternpolicy.adapters.anthropic_api import ClaudeClient, ModelConfig
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.claude.analyzer import ClaudeAnalyzer
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.models.rules import Rule
from patternpolicy.services.verify import make_verifier

Choice = Literal["auto", "offline", "claude"]


class AnalyzerNotConfigured(ValueError):
    pass


def choose_analyzer(choice: Choice = "auto", config: ModelConfig | None = None,
                    field_check: Callable[[Rule], list[str]] | None = None) -> Analyzer:
    config = config or ModelConfig.from_env()
    if choice == "offline" or (choice == "auto" and config is None):
        return OfflineAnalyzer()
    if config is None:
        raise AnalyzerNotConfigured("the Claude analyser needs ANTHROPIC_API_KEY (or PATTERNPOLICY_ANTHROPIC_API_KEY)")
    return ClaudeAnalyzer(ClaudeClient(config), max_attempts=config.max_attempts,
                          verifier=make_verifier(field_check))
