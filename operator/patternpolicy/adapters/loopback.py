"""A small JSON-over-HTTP server on 127.0.0.1, for Messages API endpoints that answer locally.

Used by `bench --replay` (anthropic_replay.py) and by the tests' wire double of the Anthropic API:
both only decide what to answer to a POST; the socket, threads and framing live here once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@contextmanager
def loopback_server(answer: Callable[[Posted], Answer]) -> Iterator[str]:
    """Serves POST requests on an ephemeral port for the duration of the block; yields the base URL.

    `answer` runs on the server's request threads: it guards its own shared state.
    """

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            posted = Posted(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            reply = answer(posted)
            payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
