"""A loopback Messages API that answers each request from `DIR/<request-id>.answer.json`.

Answers written offline (by a person or by a Claude model reading the recorded requests) go through
the real client: HTTP, the anthropic SDK, validation and feedback rounds. A request without an answer
is written to `DIR/<request-id>.request.json` and refused, so a later pass can answer it; a feedback
round, and the turn after a kind lookup, is such a new request. Procedure: docs/analysers.md.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from patternpolicy.adapters.anthropic_api import request_id
from patternpolicy.adapters.loopback import Answer, Posted, loopback_server


def _answer(directory: Path, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    rid = request_id(body)
    answer = directory / f"{rid}.answer.json"
    if answer.exists():
        try:
            return 200, json.loads(answer.read_text())
        except ValueError as exc:
            return 400, _error(f"{answer} is not JSON: {exc}")
    request = directory / f"{rid}.request.json"
    if not request.exists():
        request.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    return 400, _error(f"no answer recorded for request {rid}: write {answer}")


def _error(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}


@contextmanager
def replay_server(directory: Path) -> Iterator[str]:
    """Serves on 127.0.0.1 (an ephemeral port) for the duration of the block; yields its base URL."""
    directory.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def answer(posted: Posted) -> Answer:
        try:
            body = json.loads(posted.body or b"{}")
        except ValueError:
            return Answer(400, _error("the request body is not JSON"))
        with lock:
            return Answer(*_answer(directory, body))

    with loopback_server(answer) as url:
        yield url
