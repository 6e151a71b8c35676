"""Prometheus metrics of the operator, served on `PATTERNPOLICY_METRICS_PORT` (default 8080) at /metrics.

Counters and histograms are moved where the work happens (the pipeline, validation); the per-state gauges
follow the objects the operator watches. Set `PATTERNPOLICY_METRICS_PORT=off` to serve nothing, `0` for
any free port (tests).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter as Tally
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

PORT_ENV = "PATTERNPOLICY_METRICS_PORT"
DEFAULT_PORT = 8080
log = logging.getLogger(__name__)

PATTERNS = Gauge("patternpolicy_patterns", "Patterns by state (status.summary without the proposal name)", ["state"])
PROPOSALS = Gauge("patternpolicy_proposals", "PolicyProposals by status.phase", ["phase"])
GENERATION_SECONDS = Histogram("patternpolicy_generation_seconds",
                               "Time to analyse, check and compile one pattern", ["analyser"],
                               buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
ANALYSER_CALLS = Counter("patternpolicy_analyser_calls", "Analyser calls by analyser and outcome "
                         "(enforceable, declined, error)", ["analyser", "outcome"])
MODEL_TOKENS = Counter("patternpolicy_model_tokens", "Tokens sent to the model (prompt size)", ["analyser"])
MODEL_ERRORS = Counter("patternpolicy_model_errors", "Model calls that failed (unreachable, timeout, quota, key)",
                       ["analyser"])
VALIDATION_FAILURES = Counter("patternpolicy_validation_failures", "Proposal validations that failed, by stage "
                              "(schema, behaviour)", ["stage"])
GUARD_PRESENT = Gauge("patternpolicy_approval_guard_present",
                      "1 when the approval guard (the admission check on `approved`) is in place, else 0")

_lock = threading.Lock()
_states: dict[str, dict[str, str]] = {"pattern": {}, "proposal": {}}
_gauges = {"pattern": PATTERNS, "proposal": PROPOSALS}
_server: Any = None


def set_guard_present(present: bool) -> None:
    GUARD_PRESENT.set(1 if present else 0)


def observe_state(kind: str, name: str, state: str | None) -> str | None:
    """Records an object's state (None: it is gone) and returns the state it had before, if known."""
    with _lock:
        states = _states[kind]
        previous = states.pop(name, None) if state is None else states.get(name)
        if state is not None:
            states[name] = state
        counts = Tally(states.values())
        gauge = _gauges[kind]
        for seen in {*counts, *([previous] if previous else [])}:
            gauge.labels(seen).set(counts.get(seen, 0))
    return previous


def forget_states() -> None:
    """An operator (re)starting: the watch streams report every object afresh."""
    with _lock:
        for kind, states in _states.items():
            for state in set(states.values()):
                _gauges[kind].labels(state).set(0)
            states.clear()


def start_server() -> int | None:
    """Serves /metrics once per process; returns the port, None when switched off or the port is taken."""
    global _server
    raw = os.environ.get(PORT_ENV, str(DEFAULT_PORT)).strip().lower()
    if raw in ("", "off", "none", "false"):
        return None
    with _lock:
        if _server is None:
            try:
                _server, _thread = start_http_server(int(raw))
            except (OSError, ValueError) as exc:
                log.warning("metrics not served: %s=%s: %s", PORT_ENV, raw, exc)
                return None
            log.info("metrics on :%d/metrics", _server.server_port)
        return int(_server.server_port)


def server_port() -> int | None:
    """The port /metrics is served on in this process, if it is."""
    return int(_server.server_port) if _server is not None else None


def stop_server() -> None:
    global _server
    with _lock:
        if _server is not None:
            _server.shutdown()
            _server.server_close()
            _server = None
