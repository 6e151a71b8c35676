"""Calibrates the kind-search thresholds on tests/data/kind_search_cases.json.

For each setting it runs the index's full search (exact names, named groups,
then semantic or lexical matches above the thresholds) on every case and sums
true and false positives over all cases (micro-averaged precision, recall, F1).
The two semantic thresholds (texts that name no kind; what remains of a text
after the kinds it names) are swept on a grid; among the settings with the best
F1 the middle one is chosen. Prints the sweeps, the cosine distribution of
relevant and irrelevant pairs, optionally the margins' effect, and the cases the
chosen settings still get wrong.

    PYTHONPATH=operator:. python scripts/calibrate_kind_search.py
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from tests.support.kind_cases import Case, all_entries, load

from patternpolicy.adapters.embeddings import Embedder, load_embedder
from patternpolicy.adapters.qdrant_store import QdrantStore
from patternpolicy.discovery.index import AMBIGUITY_FLOOR, LEXICAL_WEIGHT, RELATIVE_MARGIN, CapabilityIndex

THRESHOLDS = [round(0.20 + 0.02 * i, 2) for i in range(21)]
NAMED_THRESHOLDS = [round(0.30 + 0.02 * i, 2) for i in range(16)]


class CachedEmbedder:
    """The sweep searches the same texts many times; embed each once."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.cache: dict[tuple[str, int | None], npt.NDArray[np.float32]] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], max_tokens: int | None = None) -> npt.NDArray[np.float32]:
        keys = [(t, max_tokens) for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self.cache]
        if missing:
            vectors = self.inner.embed([t for t, _ in missing], max_tokens=max_tokens)
            self.cache.update(zip(missing, vectors, strict=True))
        return np.stack([self.cache[k] for k in keys]) if keys else self.inner.embed([])


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(index: CapabilityIndex, cases: list[Case]) -> tuple[float, float, float, int, int, int]:
    tp = fp = fn = 0
    for case in cases:
        got = {str(k) for k in index.search(case.text).kinds()}
        tp += len(got & case.expected)
        fp += len(got - case.expected)
        fn += len(case.expected - got)
    return (*_prf(tp, fp, fn), tp, fp, fn)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def calibrate_semantic(index: CapabilityIndex, cases: list[Case], show: bool = True) -> tuple[float, float, float]:
    """Both semantic thresholds on a grid; among the settings with the best F1, the middle one."""
    grid = {}
    for threshold in THRESHOLDS:
        for named in NAMED_THRESHOLDS:
            index.semantic_threshold, index.named_threshold = threshold, named
            grid[(threshold, named)] = evaluate(index, cases)
    best_f1 = max(round(r[2], 3) for r in grid.values())
    ties = [k for k, r in grid.items() if round(r[2], 3) == best_f1]
    best_named = _median([n for _, n in ties])
    best = _median([t for t, n in ties if n == best_named])
    if not show:
        return best, best_named, grid[(best, best_named)][2]
    print(f"\n== semantic (cosine), threshold for texts that name no kind (named-text threshold {best_named:.2f})")
    print("   threshold  precision  recall  F1   (tp fp fn)")
    for t in THRESHOLDS:
        _table_row(t, grid[(t, best_named)], t == best)
    print(f"\n== semantic (cosine), threshold for what remains of a text after the kinds it names "
          f"(threshold {best:.2f})")
    for n in NAMED_THRESHOLDS:
        _table_row(n, grid[(best, n)], n == best_named)
    return best, best_named, grid[(best, best_named)][2]


def _table_row(threshold: float, row: tuple[float, float, float, int, int, int], chosen: bool) -> None:
    if chosen or round(threshold * 100) % 4 == 0:
        mark = "  <- chosen" if chosen else ""
        print(f"   {threshold:.2f}   {row[0]:.3f}   {row[1]:.3f}   {row[2]:.3f}   ({row[3]} {row[4]} {row[5]}){mark}")


def calibrate_lexical(index: CapabilityIndex, cases: list[Case]) -> tuple[float, float]:
    rows = {}
    for threshold in THRESHOLDS:
        index.lexical_threshold = threshold
        rows[threshold] = evaluate(index, cases)
    best_f1 = max(round(r[2], 3) for r in rows.values())
    best = _median([t for t, r in rows.items() if round(r[2], 3) == best_f1])
    print("\n== lexical (word overlap), no model\n   threshold  precision  recall  F1   (tp fp fn)")
    for t in THRESHOLDS:
        _table_row(t, rows[t], t == best)
    return best, rows[best][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--margins", action="store_true", help="also show how the margins change the best F1")
    args = parser.parse_args()
    _, _, cases = load()
    entries = all_entries()
    loaded = load_embedder()
    assert loaded.embedder is not None, loaded.note
    index = CapabilityIndex(CachedEmbedder(loaded.embedder),
                            QdrantStore.in_memory("calibration", loaded.embedder.dimension), loaded.note)
    index.upsert(entries)
    lexical = CapabilityIndex(None, None, "lexical")
    lexical.upsert(entries)

    relevant, irrelevant = [], []
    for case in cases:
        for entry, score, _ in index.semantic_scores(case.text, limit=len(entries)):
            (relevant if str(entry.ref) in case.expected else irrelevant).append(score)
    print(f"{len(cases)} cases, {len(index)} indexed kinds, {sum(len(c.expected) for c in cases)} expected kinds")
    for name, scores in (("relevant", relevant), ("irrelevant", irrelevant)):
        qs = statistics.quantiles(scores, n=20)
        print(f"cosine of {name} (text, kind) pairs: n={len(scores)} p5={qs[0]:.3f} "
              f"median={statistics.median(scores):.3f} p95={qs[-1]:.3f} max={max(scores):.3f}")

    best, best_named, f1 = calibrate_semantic(index, cases)
    best_lexical, f1_lexical = calibrate_lexical(lexical, cases)
    if args.margins:
        print("\n== best F1 (and thresholds) by weight of word overlap in the semantic score")
        for weight in (0.0, 0.1, 0.2, 0.3):
            index.lexical_weight = weight
            t, n, f = calibrate_semantic(index, cases, show=False)
            print(f"   weight {weight:.1f}: F1 {f:.3f} at thresholds {t:.2f} / {n:.2f}")
        index.lexical_weight = LEXICAL_WEIGHT
        print("\n== F1 at the chosen thresholds, by margin")
        index.semantic_threshold, index.named_threshold = best, best_named
        for relative in (0.0, 0.02, 0.05, 0.10, 1.0):
            for floor in (0.0, 0.40, 0.45):
                index.relative_margin, index.ambiguity_floor = relative, floor
                print(f"   relative margin {relative:.2f}  ambiguity floor {floor:.2f}:  "
                      f"F1 {evaluate(index, cases)[2]:.3f}")
        index.relative_margin, index.ambiguity_floor = RELATIVE_MARGIN, AMBIGUITY_FLOOR
    index.semantic_threshold, index.named_threshold = best, best_named
    lexical.lexical_threshold = best_lexical
    print(f"\nchosen: semantic threshold {best:.2f}, named-text threshold {best_named:.2f} (F1 {f1:.3f}); "
          f"lexical threshold {best_lexical:.2f} (F1 {f1_lexical:.3f})")
    print("\ncases the chosen semantic settings get wrong:")
    for case in cases:
        got = {str(k) for k in index.search(case.text).kinds()}
        if got != case.expected:
            print(f"- {case.text}\n    missing {sorted(case.expected - got)}  extra {sorted(got - case.expected)}")
            top = index.semantic_scores(case.text, limit=4)
            print("      top cosines: " + ", ".join(f"{e.ref} {s:.3f}" for e, s, _ in top))


if __name__ == "__main__":
    main()
