"""Calibrates the kind-search thresholds on tests/data/kind_search_cases.json.

For each threshold it runs the index's full search (exact names, named groups,
then semantic or lexical matches above the threshold) on every case and sums
true and false positives over all cases (micro-averaged precision, recall, F1).
Prints the sweep, the best threshold, the cosine distribution of relevant and
irrelevant pairs, how sensitive the result is to the two margins, and the cases
the chosen settings still get wrong.

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
from patternpolicy.discovery.index import AMBIGUITY_FLOOR, RELATIVE_MARGIN, CapabilityIndex

THRESHOLDS = [round(0.20 + 0.01 * i, 2) for i in range(41)]


class CachedEmbedder:
    """The sweep searches the same texts many times; embed each once."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.cache: dict[str, npt.NDArray[np.float32]] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.cache[t] for t in texts]) if texts else self.inner.embed([])


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


def sweep(index: CapabilityIndex, cases: list[Case], semantic: bool, show: bool = True) -> tuple[float, float]:
    rows = []
    for threshold in THRESHOLDS:
        if semantic:
            index.semantic_threshold = threshold
        else:
            index.lexical_threshold = threshold
        rows.append((threshold, *evaluate(index, cases)))
    # Ties go to the lower threshold: with equal F1, recall is what a reviewer cannot add back.
    best = max(rows, key=lambda r: (round(r[3], 4), -r[0]))
    if show:
        label = "semantic (cosine)" if semantic else "lexical (overlap)"
        print(f"\n== {label}: threshold  precision  recall  F1   (tp fp fn)")
        for r in rows:
            if r is best or round(r[0] * 100) % 5 == 0:
                mark = "  <- best" if r is best else ""
                print(f"   {r[0]:.2f}   {r[1]:.3f}   {r[2]:.3f}   {r[3]:.3f}   ({r[4]} {r[5]} {r[6]}){mark}")
    return float(best[0]), float(best[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid", action="store_true", help="also sweep the margins (slower)")
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
              f"median={statistics.median(scores):.3f}"
              f" p95={qs[-1]:.3f} max={max(scores):.3f}")

    best, f1 = sweep(index, cases, semantic=True)
    best_lexical, f1_lexical = sweep(lexical, cases, semantic=False)
    if args.grid:
        print("\n== sensitivity: best (threshold, F1) per margin setting")
        for relative in (0.0, 0.02, 0.05, 0.10, 0.15, 1.0):
            for floor in (0.0, 0.40, 0.45):
                index.relative_margin, index.ambiguity_floor = relative, floor
                t, f = sweep(index, cases, semantic=True, show=False)
                print(f"   relative margin {relative:.2f}  ambiguity floor {floor:.2f}:  {t:.2f}  F1 {f:.3f}")
        index.relative_margin, index.ambiguity_floor = RELATIVE_MARGIN, AMBIGUITY_FLOOR
    index.semantic_threshold = best
    lexical.lexical_threshold = best_lexical
    print(f"\nbest semantic threshold {best:.2f} (F1 {f1:.3f}); best lexical threshold {best_lexical:.2f} "
          f"(F1 {f1_lexical:.3f})")
    print("\ncases the best semantic threshold gets wrong:")
    for case in cases:
        result = index.search(case.text)
        got = {str(k) for k in result.kinds()}
        if got != case.expected:
            print(f"- {case.text}\n    missing {sorted(case.expected - got)}  extra {sorted(got - case.expected)}")
            top = index.semantic_scores(case.text, limit=4)
            print("      top cosines: " + ", ".join(f"{e.ref} {s:.3f}" for e, s, _ in top))


if __name__ == "__main__":
    main()
