"""One reading of a CRD's versions for discovery, `generate --crds`, the capability index and the schemas."""

from __future__ import annotations

from typing import Any

import pytest

from patternpolicy.discovery.entries import KindEntry
from patternpolicy.models.crd import crd_kind, version_order
from patternpolicy.schemas.crd import CrdSchemas
from patternpolicy.schemas.model import GVK
from patternpolicy.services.files import kind_from_crd


def crd(versions: list[dict[str, Any]], scope: str = "Cluster") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.io"},
        "spec": {"group": "example.io", "scope": scope,
                 "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wg"]},
                 "versions": versions},
    }


def version(name: str, served: bool = True, storage: bool = False, description: str = "") -> dict[str, Any]:
    return {"name": name, "served": served, "storage": storage,
            "schema": {"openAPIV3Schema": {"type": "object", "description": description or f"Widget {name}"}}}


def test_versions_sort_like_the_apiserver() -> None:
    names = ["v1api20221201", "v1alpha1", "v1beta1", "v1", "v2", "v1beta2", "v2beta1", "foo10", "foo1", "v11alpha2"]
    assert sorted(names, key=version_order) == [
        "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v11alpha2", "v1alpha1", "foo1", "foo10", "v1api20221201"]


def test_a_crd_serves_its_served_versions_preferred_first_storage_marked() -> None:
    served = crd_kind(crd([version("v1alpha1"), version("v1", storage=True), version("v2"),
                           version("v3alpha1", served=False)]))
    assert served is not None
    assert served.version_names == ("v2", "v1", "v1alpha1")
    assert served.preferred.name == "v2" and served.storage is not None and served.storage.name == "v1"
    assert served.namespaced is False and served.short_names == ("wg",)
    assert served.ref().api_version == "example.io/v2" and served.ref("v1").version == "v1"


def test_nothing_served_or_not_a_crd_is_no_kind() -> None:
    assert crd_kind(crd([version("v1", served=False)])) is None
    assert crd_kind({"kind": "ConfigMap"}) is None


def test_an_item_of_the_apiservers_crd_list_has_no_kind_and_is_still_a_crd() -> None:
    item = {k: v for k, v in crd([version("v1", storage=True)]).items() if k not in ("kind", "apiVersion")}
    served = crd_kind(item)
    assert served is not None and served.kind == "Widget"
    entry = KindEntry.from_crd(item)
    assert entry is not None and entry.description == "Widget v1"


def test_a_v1beta1_crd_with_one_version_and_a_shared_schema() -> None:
    legacy = {"kind": "CustomResourceDefinition", "metadata": {"name": "olds.example.io"},
              "spec": {"group": "example.io", "version": "v1beta1", "names": {"kind": "Old", "plural": "olds"},
                       "validation": {"openAPIV3Schema": {"type": "object", "description": "old"}}}}
    served = crd_kind(legacy)
    assert served is not None and served.version_names == ("v1beta1",) and served.namespaced
    assert served.preferred.schema == {"type": "object", "description": "old"}


@pytest.mark.parametrize("versions", [
    [version("v1", storage=True), version("v2")],
    [version("v1beta1"), version("v1", storage=True), version("v2alpha1", served=False)],
    [version("v1api20200601", storage=True), version("v1api20221201")],
])
def test_generate_the_index_and_the_schemas_agree(versions: list[dict[str, Any]]) -> None:
    """The three former readings (storage, highest priority, every version) are now one."""
    doc = crd(versions)
    served = crd_kind(doc)
    assert served is not None
    from_files = kind_from_crd(doc)
    entry = KindEntry.from_crd(doc)
    assert from_files is not None and entry is not None
    assert from_files[0] == entry.ref == served.ref()
    assert entry.versions == served.version_names
    schemas = CrdSchemas.from_documents([doc])
    assert set(schemas.kinds) == {GVK("example.io", v, "Widget") for v in served.version_names}


def test_the_index_describes_a_kind_by_its_storage_version() -> None:
    entry = KindEntry.from_crd(crd([version("v1", storage=True, description="stored"), version("v2")]))
    assert entry is not None and entry.description == "stored" and entry.versions == ("v2", "v1")
