"""Progress lines for long runs: on stderr, only on a terminal, only once a run has taken a few seconds."""

from __future__ import annotations

import sys
import time
from typing import TextIO

QUIET_SECONDS = 3.0


class Progress:
    def __init__(self, what: str, stream: TextIO | None = None, quiet_for: float = QUIET_SECONDS) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.quiet_for = quiet_for
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def step(self, done: int, total: int, item: str) -> None:
        """Called as each item starts: says how far the run is and what it is doing now."""
        elapsed = time.monotonic() - self.started
        if not self.enabled or elapsed < self.quiet_for:
            return
        print(f"{self.what} {done + 1}/{total}: {item} ({elapsed:.0f}s)", file=self.stream, flush=True)
