"""The capability index: which served kinds a pattern's text is about.

Search is hybrid. Kinds the text names exactly (kind, plural, short name; see
KindCatalog.mentions) come first, then kinds of an API group the text names,
then kinds whose embedded description is semantically close to the text
(cosine >= a threshold calibrated on tests/data/kind_search_cases.json; see
docs/discovery.md). Every match says why it matched. Kinds in NEVER_TARGET are
neither indexed nor returned. Without an embedding model, the semantic stage
becomes word overlap (lexical) and the result says so.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from patternpolicy.adapters.embeddings import Embedder, EmbedderLoad, load_embedder
from patternpolicy.adapters.qdrant_store import QdrantStore, StoreLocation, configured_location
from patternpolicy.discovery.catalog import NEVER_TARGET, KindCatalog, KindMention
from patternpolicy.discovery.entries import KindEntry, point_id
from patternpolicy.discovery.lexical import LexicalScorer
from patternpolicy.discovery.matches import (
    KindMatch,
    Mode,
    SearchResult,
    SyncReport,
    _child_words,
    _Fused,
    _sentences,
    _without,
)

# Calibrated on tests/data/kind_search_cases.json with all-MiniLM-L6-v2, F1 0.724 (the middle of
# the best-F1 settings; scripts/calibrate_kind_search.py, docs/discovery.md has the sweeps).
# Scores are cosine + LEXICAL_WEIGHT x word overlap. For texts that name no kind, the closest
# kind counts when its score reaches this.
SEMANTIC_THRESHOLD = 0.38
# For what remains of a text once the kinds it names are taken out ("Azure PostgreSQL servers
# must reference a [ResourceGroup]"): a second subject must be clearer than a first one.
NAMED_THRESHOLD = 0.54
# Weight of word overlap (lexical.py, 0..1) added to the cosine in the semantic stage.
LEXICAL_WEIGHT = 0.1
# Similar kinds must also be within this much of the closest kind's cosine. Zero keeps only
# the closest kind (and exact ties): on the labelled cases every wider margin added more
# related-but-wrong neighbours (FlexibleServersDatabase beside FlexibleServer) than it found.
RELATIVE_MARGIN = 0.0
# A name that several kinds share ("Bucket" in two clouds) keeps the kinds whose cosine is
# within AMBIGUITY_MARGIN of the closest of them and at least AMBIGUITY_FLOOR: a generic
# word ("cluster") that fits none of them in meaning names none of them.
AMBIGUITY_MARGIN = 0.10
AMBIGUITY_FLOOR = 0.40
# Child kinds are named after their parent's plural (FlexibleServer -> FlexibleServersDatabase). A text
# that does not use the child's own words ("database") means the parent when the parent scores
# within this much of the child: "Azure PostgreSQL requires ..." is about the server.
PARENT_MARGIN = 0.05
# Kinds of the closest kind's API group that also reach the threshold and score within this much of
# it are its siblings (a single and a flexible PostgreSQL server; their child kinds are not): the text
# describes them about as well. They are not matches (the calibration above counts only the closest),
# but analysers that judge for themselves are offered them, and the status names the one chosen and
# why. With Azure Service Operator's two PostgreSQL server kinds the gap is 0.07-0.14 on PRD-like texts.
SIBLING_MARGIN = 0.15
# Word-overlap score a kind needs when there is no model (best F1 0.563 on the same cases).
LEXICAL_THRESHOLD = 0.26
_EMBED_BATCH = 256  # entries embedded (and written to Qdrant) per step while building
# Tokens of a kind's text that get embedded: kind, group and the opening of the description
# fit. Cost grows with length; on the labelled cases 48 scored as well as no cut (F1 0.724
# both; 64: 0.718; 32: 0.679) and builds 2,000 kinds in about 14 s instead of 17 s (64) or 30 s.
ENTRY_MAX_TOKENS = 48

def _collection_name(embedder: Embedder) -> str:
    # A different model (or dimension) gets its own collection: vectors of two models never mix.
    slug = re.sub(r"[^a-z0-9]+", "-", embedder.name.lower()).strip("-")
    return f"patternpolicy-kinds-{slug}-{embedder.dimension}"


class CapabilityIndex:
    """Served kinds, searchable by pattern text; updated one kind at a time as CRDs change."""

    def __init__(self, embedder: Embedder | None, store: QdrantStore | None, note: str,
                 semantic_threshold: float = SEMANTIC_THRESHOLD, named_threshold: float = NAMED_THRESHOLD,
                 lexical_threshold: float = LEXICAL_THRESHOLD, lexical_weight: float = LEXICAL_WEIGHT,
                 relative_margin: float = RELATIVE_MARGIN, ambiguity_margin: float = AMBIGUITY_MARGIN,
                 ambiguity_floor: float = AMBIGUITY_FLOOR) -> None:
        if (embedder is None) != (store is None):
            raise ValueError("an embedder and a vector store go together")
        self.embedder = embedder
        self.store = store
        self.note = note
        self.semantic_threshold = semantic_threshold
        self.named_threshold = named_threshold
        self.lexical_threshold = lexical_threshold
        self.lexical_weight = lexical_weight
        self.relative_margin = relative_margin
        self.ambiguity_margin = ambiguity_margin
        self.ambiguity_floor = ambiguity_floor
        self._lock = threading.RLock()
        self._entries: dict[str, KindEntry] = {}
        self._hashes: dict[str, str] = {}  # key -> hash of what is stored, to skip unchanged kinds
        self._catalog: KindCatalog | None = None
        self._lexical: LexicalScorer | None = None
        if store is not None:
            self._restore(store)

    @classmethod
    def open(cls, location: StoreLocation | None = None, embedder_load: EmbedderLoad | None = None) -> CapabilityIndex:
        """The bundled model and the configured Qdrant; lexical only when no model is found."""
        loaded = embedder_load or load_embedder()
        if loaded.embedder is None:
            return cls(None, None, f"lexical search only ({loaded.note})")
        where = location or configured_location()
        collection = _collection_name(loaded.embedder)
        try:
            store = QdrantStore.open(collection, loaded.embedder.dimension, where)
        except (RuntimeError, OSError) as exc:
            # Local mode locks its folder, and a read-only volume cannot hold it: a second process
            # (say, a CLI run beside the operator) still gets a working, if temporary, index.
            store = QdrantStore.in_memory(collection, loaded.embedder.dimension)
            return cls(loaded.embedder, store, f"{loaded.note}; {where.describe()} unavailable ({exc}), "
                                               "using an in-memory index")
        return cls(loaded.embedder, store, f"{loaded.note}; {store.where}")

    @property
    def mode(self) -> Mode:
        return "hybrid" if self.embedder is not None else "lexical"

    def close(self) -> None:
        with self._lock:
            if self.store is not None:
                self.store.close()

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[KindEntry]:
        with self._lock:
            return list(self._entries.values())

    def get(self, group: str, kind: str) -> KindEntry | None:
        return self._entries.get(f"{group}/{kind}")

    # -- updates ---------------------------------------------------------------------------

    def upsert(self, entries: Iterable[KindEntry]) -> int:
        """Adds or replaces kinds; only new or changed ones are embedded and written."""
        with self._lock:
            fresh = [e for e in entries if e.kind not in NEVER_TARGET]
            changed = [e for e in fresh if self._hashes.get(e.key) != e.content_hash()]
            for entry in fresh:
                self._entries[entry.key] = entry
            if self.embedder is not None and self.store is not None and changed:
                self._embed_and_store(self.embedder, self.store, changed)
            for entry in changed:
                self._hashes[entry.key] = entry.content_hash()
            self._invalidate()
            return len(changed)

    @staticmethod
    def _embed_and_store(embedder: Embedder, store: QdrantStore, entries: list[KindEntry]) -> None:
        # Local mode commits each point to SQLite on its own (mostly waiting on the disk), so a
        # writer thread stores one batch while the next is embedded; only it touches the store.
        with ThreadPoolExecutor(1, thread_name_prefix="index-writer") as writer:
            pending: Future[None] | None = None
            for start in range(0, len(entries), _EMBED_BATCH):
                batch = entries[start : start + _EMBED_BATCH]
                vectors = embedder.embed([e.embedding_text() for e in batch], max_tokens=ENTRY_MAX_TOKENS)
                if pending is not None:
                    pending.result()
                pending = writer.submit(store.upsert, [e.id for e in batch], vectors, [e.to_payload() for e in batch])
            if pending is not None:
                pending.result()

    def upsert_crd(self, crd: dict[str, object]) -> KindEntry | None:
        """A CRD was added or changed: index the kind it serves (a CRD serving nothing is removed)."""
        entry = KindEntry.from_crd(crd)
        if entry is None:
            spec = crd.get("spec")
            if isinstance(spec, dict):
                names = spec.get("names") or {}
                self.remove(str(spec.get("group", "")), str(names.get("kind", "")))
            return None
        self.upsert([entry])
        return entry

    def remove(self, group: str, kind: str) -> bool:
        with self._lock:
            key = f"{group}/{kind}"
            if key not in self._entries:
                return False
            del self._entries[key]
            self._hashes.pop(key, None)
            if self.store is not None:
                self.store.delete([point_id(group, kind)])
            self._invalidate()
            return True

    def remove_crd(self, crd: dict[str, object]) -> bool:
        spec = crd.get("spec")
        if not isinstance(spec, dict):
            return False
        return self.remove(str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", "")))

    def sync(self, entries: Iterable[KindEntry]) -> SyncReport:
        """Makes the index hold exactly these kinds (a full resync, e.g. at start-up or after a restart)."""
        with self._lock:
            wanted = {e.key: e for e in entries if e.kind not in NEVER_TARGET}
            gone = [k for k in self._entries if k not in wanted]
            added = sum(1 for k in wanted if k not in self._entries)
            for key in gone:
                group, _, kind = key.partition("/")
                self.remove(group, kind)
            embedded = self.upsert(wanted.values())  # new kinds plus those whose text changed
            return SyncReport(added=added, updated=embedded - added, removed=len(gone),
                              unchanged=len(wanted) - embedded)

    # -- search ----------------------------------------------------------------------------

    def search(self, text: str, limit: int = 5) -> SearchResult:
        """Kinds the text is about: named ones first, then those of a named group, then similar ones."""
        with self._lock:
            semantic = self.embedder is not None and self.store is not None
            scores = self._scores(text) if semantic else {}
            matches: list[KindMatch] = []
            seen: set[str] = set()

            def add(match: KindMatch) -> None:
                if match.entry.key not in seen and match.entry.kind not in NEVER_TARGET:
                    seen.add(match.entry.key)
                    matches.append(match)

            for match in self._named(text, scores):
                add(match)
            for entry in self._group_mentions(text):
                add(KindMatch(entry, "group", 1.0, entry.group))
            if semantic:
                threshold, query_text = self.semantic_threshold, text
                named = [m.evidence for m in matches if m.reason == "exact"]
                if named:
                    # What the text names is settled; look for what the rest of it describes,
                    # so the named kind's own words do not pull in its neighbours.
                    query_text, threshold = _without(text, named), self.named_threshold
                    scores = self._scores(query_text)
                fused = self._fuse(query_text, scores)
                fused = {key: f for key, f in fused.items() if key not in seen}
                best = max((f.score for f in fused.values()), default=0.0)
                floor = max(threshold, best - self.relative_margin)
                ranked = sorted(fused.items(), key=lambda kv: _rank(kv[1].score, kv[0]))
                similar = [KindMatch(self._entries[key], "semantic", f.score, f.query,
                                     f"cosine {f.cosine:.2f} + {self.lexical_weight:g} x word overlap {f.overlap:.2f}",
                                     f.overlap)
                           for key, f in ranked if f.score >= floor]
                similar = [self._parent_instead(m, fused, query_text, threshold) for m in similar]
                for match in similar[:limit]:
                    add(match)
                near = self._siblings([m for m in matches if m.reason == "semantic"], ranked, query_text, seen,
                                      threshold)
                return SearchResult(text, "hybrid", self.note, self.semantic_threshold, matches, near)
            lexical = self._lexical_matches(text, seen)
            for match in lexical[:limit]:
                add(match)
            return SearchResult(text, "lexical", self.note, self.lexical_threshold, matches)

    def _siblings(self, chosen: list[KindMatch], ranked: list[tuple[str, _Fused]], text: str,
                  seen: set[str], threshold: float) -> list[KindMatch]:
        """Kinds of the closest kind's group that reach the threshold within SIBLING_MARGIN of it; not
        child kinds (FlexibleServersDatabase), unless the text uses their own words."""
        if not chosen:
            return []
        best = chosen[0]
        close = [(self._entries[key], f) for key, f in ranked
                 if self._entries[key].group == best.entry.group
                 and f.score >= max(threshold, best.score - SIBLING_MARGIN)]
        found = []
        for entry, f in close:
            parents = [*(m.entry for m in chosen), *(other for other, _ in close)]
            if entry.key in seen or any(_child_words(entry, parent, text) for parent in parents):
                continue
            found.append(KindMatch(entry, "semantic", f.score, f.query,
                                   f"cosine {f.cosine:.2f} + {self.lexical_weight:g} x word overlap {f.overlap:.2f}; "
                                   f"within {SIBLING_MARGIN:g} of {best.entry.kind} ({best.score:.2f})", f.overlap))
        return found

    def _parent_instead(self, match: KindMatch, fused: dict[str, _Fused], text: str, threshold: float) -> KindMatch:
        """The parent kind instead of a child kind whose own words the text does not use."""
        child = match.entry
        for key, score in sorted(fused.items(), key=lambda kv: _rank(kv[1].score, kv[0])):
            parent = self._entries[key]
            close_enough = score.score >= max(threshold, match.score - PARENT_MARGIN)
            if close_enough and _child_words(child, parent, text):
                return KindMatch(parent, "semantic", score.score, score.query,
                                 f"cosine {score.cosine:.2f} + {self.lexical_weight:g} x word overlap "
                                 f"{score.overlap:.2f}; preferred to {child.kind}, whose own words "
                                 "the text does not use", score.overlap)
        return match

    def semantic_scores(self, text: str, limit: int = 50) -> list[tuple[KindEntry, float, str]]:
        """Best cosine per kind over the text and its sentences, unthresholded, best first."""
        with self._lock:
            ranked = sorted(self._scores(text, limit).items(), key=lambda kv: _rank(kv[1][0], kv[0]))
            return [(self._entries[k], score, query) for k, (score, query) in ranked]

    def _scores(self, text: str, limit: int = 50, only: list[str] | None = None) -> dict[str, tuple[float, str]]:
        """key -> (best cosine, the text or sentence that reached it) for the `limit` closest kinds."""
        if self.embedder is None or self.store is None:
            return {}
        queries = [text, *_sentences(text)]
        vectors = self.embedder.embed(queries)
        best: dict[str, tuple[float, str]] = {}
        for query, vector in zip(queries, vectors, strict=True):
            for hit in self.store.search(np.asarray(vector, dtype=np.float32), limit, only_ids=only):
                key = f"{hit.payload.get('group', '')}/{hit.payload.get('kind', '')}"
                if key in self._entries and hit.score > best.get(key, (-1.0, ""))[0]:
                    best[key] = (hit.score, query)
        return best

    def _fuse(self, text: str, scores: dict[str, tuple[float, str]]) -> dict[str, _Fused]:
        """Cosine plus a little word overlap: the model's vocabulary splits product names
        (PostgreSQL, Kafka, Redis) into fragments; shared words put that signal back."""
        overlap = {hit.key: hit.score for hit in self._lexical_now().score(text)} if self.lexical_weight else {}
        return {key: _Fused(cosine + self.lexical_weight * overlap.get(key, 0.0), cosine, overlap.get(key, 0.0), query)
                for key, (cosine, query) in scores.items()}

    def _named(self, text: str, scores: dict[str, tuple[float, str]]) -> list[KindMatch]:
        """Exact mentions; a name several kinds share is resolved by a named group, else by meaning."""
        groups = {e.group for e in self._group_mentions(text)}
        # A group's name is an identifier, not words: "cert-manager.io" does not name the short name "cert".
        prose = text
        for group in groups:
            prose = re.sub(re.escape(group), " ", prose, flags=re.IGNORECASE)
        by_name: dict[str, list[KindMention]] = {}
        for mention in self._catalog_now().mentions(prose):
            by_name.setdefault(mention.kind.kind, []).append(mention)
        found: list[KindMatch] = []
        for same in by_name.values():
            pairs = [(m, self._entries[f"{m.kind.group}/{m.kind.kind}"]) for m in same]
            if len(pairs) == 1:
                found.append(KindMatch(pairs[0][1], "exact", 1.0, pairs[0][0].matched))
                continue
            of = f"of the {len(pairs)} kinds of that name"
            in_group = [(m, e) for m, e in pairs if e.group in groups]
            if in_group:
                found += [KindMatch(e, "exact", 1.0, m.matched, f"{of}, the one in the named group")
                          for m, e in in_group]
            elif self.embedder is None:
                found += [KindMatch(e, "exact", 1.0, m.matched, f"one {of}; no model to tell them apart")
                          for m, e in pairs]
            else:
                missing = [e.id for _, e in pairs if e.key not in scores]
                if missing:  # candidates outside the closest few: score just those
                    scores = {**scores, **self._scores(text, len(missing), only=missing)}
                cosines = [scores.get(e.key, (-1.0, ""))[0] for _, e in pairs]
                bar = max(self.ambiguity_floor, max(cosines) - self.ambiguity_margin)
                found += [KindMatch(e, "exact", 1.0, m.matched, f"{of}, close in meaning: cosine {c:.2f}")
                          for (m, e), c in zip(pairs, cosines, strict=True) if c >= bar]
        return found

    def _lexical_matches(self, text: str, seen: set[str]) -> list[KindMatch]:
        hits = [h for h in self._lexical_now().score(text) if h.key not in seen]
        floor = max(self.lexical_threshold, (hits[0].score if hits else 0.0) - self.relative_margin)
        return [KindMatch(self._entries[hit.key], "lexical", hit.score, ", ".join(hit.matched), overlap=hit.score)
                for hit in hits if hit.score >= floor]

    def _group_mentions(self, text: str) -> list[KindEntry]:
        lowered = text.lower()
        groups = {e.group for e in self._entries.values() if e.group and "." in e.group}
        named = {g for g in groups if re.search(rf"(?<![\w.-]){re.escape(g)}(?![\w-])", lowered)}
        return sorted((e for e in self._entries.values() if e.group in named), key=lambda e: (e.group, e.kind))

    # -- internals -------------------------------------------------------------------------

    def _restore(self, store: QdrantStore) -> None:
        for payload in store.payloads().values():
            try:
                entry = KindEntry.from_payload(payload)
            except (KeyError, TypeError, ValueError):
                continue  # a point written by another version of the operator; the next sync replaces it
            self._entries[entry.key] = entry
            self._hashes[entry.key] = str(payload.get("content_hash", ""))

    def _invalidate(self) -> None:
        self._catalog = None
        self._lexical = None

    def _catalog_now(self) -> KindCatalog:
        if self._catalog is None:
            entries = list(self._entries.values())
            self._catalog = KindCatalog([e.ref for e in entries], {e.key: e.short_names for e in entries})
        return self._catalog

    def _lexical_now(self) -> LexicalScorer:
        if self._lexical is None:
            self._lexical = LexicalScorer(self._entries.values())
        return self._lexical


def _rank(score: float, key: str) -> tuple[float, str]:
    """Best first, and the same order on every run: embeddings computed in parallel differ in the last
    bits between runs, so near-equal kinds (Job and CronJob) would swap places in the model's prompt."""
    return (-round(score, 3), key)
