"""Choosing the analyser: offline unless Claude is chosen explicitly.

Claude runs only when asked for by name: `--analyser claude` on the command line, or the project's own
setting PATTERNPOLICY_ANALYSER=claude (operator and CLI). An API key alone never selects it, so a
machine that happens to export ANTHROPIC_API_KEY for other tools does not start sending patterns out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Literal, cast

from patternpolicy.adapters.anthropic_api import KEY_SETTING, ClaudeClient, ModelConfig, SDKMissing
from patternpolicy.adapters.anthropic_replay import replay_server
from patternpolicy.analysis.base import Analyzer
from patternpolicy.analysis.claude.analyzer import ClaudeAnalyzer
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.models.rules import Rule
from patternpolicy.services.verify import make_verifier

Choice = Literal["auto", "offline", "claude"]
SETTING = "PATTERNPOLICY_ANALYSER"


class AnalyzerNotConfigured(ValueError):
    pass


def resolve(choice: str = "auto") -> Literal["offline", "claude"]:
    """`auto` means the project's setting, offline when unset; anything else must be a known name."""
    name = (os.environ.get(SETTING) or "offline").strip().lower() if choice == "auto" else choice
    if name not in ("offline", "claude"):
        raise AnalyzerNotConfigured(f"{SETTING}={name!r} is not an analyser: use offline or claude")
    return cast(Literal["offline", "claude"], name)


def choose_analyzer(choice: str = "auto", config: ModelConfig | None = None,
                    field_check: Callable[[Rule], list[str]] | None = None,
                    record_dir: Path | None = None) -> Analyzer:
    if resolve(choice) == "offline":
        return OfflineAnalyzer()
    config = config or ModelConfig.from_env()  # the key is read only now that Claude was chosen
    if config is None:
        raise AnalyzerNotConfigured(f"the Claude analyser was chosen but no API key is set: set {KEY_SETTING} "
                                    "(or ANTHROPIC_API_KEY)")
    if record_dir is not None:
        config = replace(config, record_dir=record_dir)
    try:
        client = ClaudeClient(config)
    except SDKMissing as exc:
        raise AnalyzerNotConfigured(str(exc)) from exc
    return ClaudeAnalyzer(client, max_attempts=config.max_attempts, verifier=make_verifier(field_check),
                          max_lookups=config.max_lookups)


@contextmanager
def bench_analyzers(choice: str, field_check: Callable[[Rule], list[str]] | None = None,
                    record: Path | None = None, replay: Path | None = None) -> Iterator[list[Analyzer]]:
    """The analysers `bench --analyser` names (`all`: offline and Claude). `record`: every Claude request and
    answer is written to that directory; `replay`: Claude is asked through a loopback server that answers
    from that directory's answer files (no key needed). See docs/analysers.md."""
    names = ["offline", "claude"] if choice == "all" else [resolve(choice)]
    if (record or replay) and "claude" not in names:
        raise AnalyzerNotConfigured("--record and --replay are for the Claude analyser: add --analyser claude")
    with ExitStack() as stack:
        config = None
        if replay is not None and "claude" in names:
            url = stack.enter_context(replay_server(replay))
            base = ModelConfig.from_env() or ModelConfig(api_key="replay")
            config = replace(base, base_url=url, max_retries=0, record_dir=None)
        yield [choose_analyzer(name, config=config, field_check=field_check, record_dir=record) for name in names]
