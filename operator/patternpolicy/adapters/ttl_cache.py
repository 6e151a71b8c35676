"""A value read from the cluster, kept for a while and dropped when the cluster says it changed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    def __init__(self, load: Callable[[], T], ttl: float = 30.0) -> None:
        self.load = load
        self.ttl = ttl
        self._value: T | None = None
        self._at = float("-inf")

    def get(self) -> T:
        if self._value is None or time.monotonic() - self._at > self.ttl:
            self._value = self.load()
            self._at = time.monotonic()
        return self._value

    def invalidate(self) -> None:
        self._at = float("-inf")
