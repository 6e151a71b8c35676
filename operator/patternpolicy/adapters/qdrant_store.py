"""Vectors and payloads of the capability index in Qdrant.

Embedded local mode by default (on disk, survives restarts, no server to run);
a Qdrant server when PATTERNPOLICY_QDRANT_URL is set, e.g. for several replicas.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient, models

INDEX_PATH_ENV = "PATTERNPOLICY_INDEX_PATH"
QDRANT_URL_ENV = "PATTERNPOLICY_QDRANT_URL"
QDRANT_API_KEY_ENV = "PATTERNPOLICY_QDRANT_API_KEY"
DEFAULT_INDEX_PATH = Path("~/.cache/patternpolicy/index")
_SCROLL_PAGE = 1024


@dataclass(frozen=True)
class StoreLocation:
    url: str | None
    path: Path | None

    def describe(self) -> str:
        return f"Qdrant server {self.url}" if self.url else f"Qdrant local mode at {self.path}"


def configured_location(path: Path | None = None) -> StoreLocation:
    """An explicit path wins; then the server URL; then the index path from the env or its default."""
    if path is not None:
        return StoreLocation(None, path)
    url = os.environ.get(QDRANT_URL_ENV, "").strip()
    if url:
        return StoreLocation(url, None)
    raw = os.environ.get(INDEX_PATH_ENV, "").strip()
    return StoreLocation(None, Path(raw or DEFAULT_INDEX_PATH).expanduser())


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


class QdrantStore:
    """One collection of unit vectors compared by cosine, with a JSON payload per point."""

    def __init__(self, client: QdrantClient, collection: str, dimension: int, where: str) -> None:
        self.client = client
        self.collection = collection
        self.dimension = dimension
        self.where = where  # for status and notes
        if not client.collection_exists(collection):
            client.create_collection(
                collection, vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE))

    @classmethod
    def open(cls, collection: str, dimension: int, location: StoreLocation) -> QdrantStore:
        if location.url:
            api_key = os.environ.get(QDRANT_API_KEY_ENV) or None
            return cls(QdrantClient(url=location.url, api_key=api_key), collection, dimension, location.describe())
        assert location.path is not None
        location.path.mkdir(parents=True, exist_ok=True)
        return cls(QdrantClient(path=str(location.path)), collection, dimension, location.describe())

    @classmethod
    def in_memory(cls, collection: str, dimension: int) -> QdrantStore:
        return cls(QdrantClient(location=":memory:"), collection, dimension, "Qdrant in memory")

    def upsert(self, ids: Sequence[str], vectors: npt.NDArray[np.float32], payloads: Sequence[dict[str, Any]]) -> None:
        if not ids:
            return
        self.client.upsert(self.collection, models.Batch(ids=list(ids), vectors=vectors.tolist(),
                                                         payloads=list(payloads)))

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(ids)))

    def search(self, vector: npt.NDArray[np.float32], limit: int, threshold: float | None = None,
               only_ids: Sequence[str] | None = None) -> list[Hit]:
        """The closest points by cosine, best first; only_ids restricts the search to those points."""
        query_filter = models.Filter(must=[models.HasIdCondition(has_id=list(only_ids))]) if only_ids else None
        found = self.client.query_points(self.collection, query=vector.tolist(), limit=limit,
                                         score_threshold=threshold, query_filter=query_filter, with_payload=True)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in found.points]

    def payloads(self) -> dict[str, dict[str, Any]]:
        """Every stored point's payload by id (to restore the index after a restart)."""
        out: dict[str, dict[str, Any]] = {}
        offset: Any = None
        while True:
            records, offset = self.client.scroll(self.collection, limit=_SCROLL_PAGE, offset=offset,
                                                 with_payload=True, with_vectors=False)
            out.update({str(r.id): dict(r.payload or {}) for r in records})
            if offset is None:
                return out

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        self.client.close()
