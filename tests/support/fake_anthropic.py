"""A local HTTP server speaking the Anthropic Messages API wire format, scripted per test.

Only the remote service is replaced: the real anthropic SDK and our client code
run unchanged against it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def tool_use(tool_input: dict[str, Any], name: str = "propose_rules", input_tokens: int = 1200) -> Step:
    return Step(body={
        "id": "msg_test", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "tool_use", "id": f"toolu_{abs(hash(json.dumps(tool_input))) % 10**8}",
                     "name": name, "input": tool_input}],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 300},
    })


def text_only(text: str) -> Step:
    return Step(body={
        "id": "msg_text", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 900, "output_tokens": 20},
    })


def error(status: int, kind: str, message: str, **headers: str) -> Step:
    return Step(status=status, body={"type": "error", "error": {"type": kind, "message": message}},
                headers=headers)


@dataclass
class FakeAnthropic:
    url: str
    script: list[Step]
    requests: list[dict[str, Any]]


@contextmanager
def fake_anthropic(*steps: Step) -> Iterator[FakeAnthropic]:
    state = FakeAnthropic(url="", script=list(steps), requests=[])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            with lock:
                state.requests.append({"path": self.path, "json": payload,
                                       "headers": {k.lower(): v for k, v in self.headers.items()}})
                step = state.script.pop(0) if state.script else error(500, "api_error", "script exhausted")
            if step.delay:
                time.sleep(step.delay)
            data = json.dumps(step.body or {}).encode()
            try:
                self.send_response(step.status)
                self.send_header("content-type", "application/json")
                self.send_header("request-id", f"req_{len(state.requests)}")
                for key, value in step.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
