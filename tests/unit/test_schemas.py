"""Kind schemas: built-in kinds, CRD files and cluster OpenAPI documents, and walking field paths in them."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.schemas import (
    ELEMENT,
    BuiltinSchemas,
    CrdSchemas,
    KindSchema,
    OpenAPISchemas,
    SchemaError,
    available_versions,
    builtin_schemas,
    format_path,
    pick_version,
    resolve,
    schema_source,
)

E = ELEMENT


def path(text: str) -> tuple[str, ...]:
    """'spec.containers[].image' -> ('spec', 'containers', '[]', 'image')."""
    return tuple(s for part in text.split(".") for s in part.replace("[]", ".[]").split(".") if s)


def builtin(group: str, version: str, kind: str) -> KindSchema:
    found = builtin_schemas().schema_for(group, version, kind)
    assert found is not None, kind
    return found


# --- built-in kinds ---------------------------------------------------------------------------

@pytest.mark.parametrize(("group", "version", "kind", "field", "type_"), [
    ("", "v1", "Pod", "spec.containers[].securityContext.privileged", "boolean"),
    ("", "v1", "Pod", "metadata.labels", "map"),
    ("apps", "v1", "Deployment", "spec.template.spec.containers[].image", "string"),
    ("apps", "v1", "Deployment", "spec.replicas", "integer"),
    ("batch", "v1", "CronJob", "spec.jobTemplate.spec.template.spec.initContainers[].name", "string"),
    ("", "v1", "Service", "spec.type", "string"),
    ("networking.k8s.io", "v1", "Ingress", "spec.rules[].host", "string"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "subjects[].name", "string"),
])
def test_real_fields_of_builtin_kinds_resolve_with_their_type(group: str, version: str, kind: str,
                                                              field: str, type_: str) -> None:
    found = resolve(builtin(group, version, kind), path(field))
    assert found.ok, found.problem
    assert found.type == type_


def test_a_misspelt_field_names_the_real_one() -> None:
    found = resolve(builtin("", "v1", "Pod"), path("spec.containers[].securityContext.privilegd"))
    assert not found.ok
    assert found.problem.startswith("no such field (known: privileged")
    assert found.depth == 4  # spec, containers, [], securityContext resolved; privilegd did not


def test_int_or_string_and_quantities() -> None:
    deployment = builtin("apps", "v1", "Deployment")
    assert resolve(deployment, path("spec.strategy.rollingUpdate.maxSurge")).type == "int-or-string"
    cpu = resolve(deployment, path("spec.template.spec.containers[].resources.limits.cpu"))
    assert cpu.ok  # a key of the limits map: any resource name is fine


def test_map_values_and_keys() -> None:
    pod = builtin("", "v1", "Pod")
    assert resolve(pod, path("metadata.annotations.anything")).type == "string"
    assert resolve(pod, ("metadata", "labels", "app.kubernetes.io/name")).ok
    assert resolve(pod, path("metadata.labels[]")).type == "string"


def test_lists_and_scalars_are_not_objects() -> None:
    pod = builtin("", "v1", "Pod")
    listed = resolve(pod, path("spec.containers.image"))
    assert not listed.ok and "containers is a list" in listed.problem
    scalar = resolve(pod, path("spec.hostNetwork.value"))
    assert not scalar.ok and "hostNetwork is boolean" in scalar.problem
    indexed = resolve(pod, path("spec.hostNetwork[]"))
    assert not indexed.ok and "not a list or map" in indexed.problem


def test_fields_that_accept_any_json_allow_anything_below() -> None:
    crd = builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    found = resolve(crd, path("spec.versions[].schema.openAPIV3Schema.default.whatever.below"))
    assert found.ok and found.type == "unknown"


def test_every_kind_of_the_builtin_catalog_has_a_schema() -> None:
    missing = [str(k) for k in KindCatalog.builtin().kinds if builtin_schemas().schema_for(k.group, k.version, k.kind)
               is None]
    assert missing == []


def test_unknown_kind_is_none_not_an_error() -> None:
    assert builtin_schemas().schema_for("example.com", "v1", "Widget") is None


def test_version_choice() -> None:
    versions = available_versions()
    assert "1.36" in versions
    assert pick_version() == "1.36"
    assert pick_version("1.30.2") == "1.30"
    assert pick_version("v1.99") == versions[-1]  # newer than shipped: the newest shipped
    with pytest.raises(SchemaError, match="available"):
        pick_version("1.2")
    assert BuiltinSchemas("1.30").version == "1.30"


def test_loading_is_fast_and_cached() -> None:
    started = time.perf_counter()
    fresh = BuiltinSchemas("1.35")
    pod = fresh.schema_for("", "v1", "Pod")
    assert pod is not None and resolve(pod, path("spec.containers[].image")).ok
    assert time.perf_counter() - started < 2.0  # ~20 ms in practice; generous for slow CI machines
    assert builtin_schemas() is builtin_schemas("1.36.2") is builtin_schemas("v1.36")


def test_format_path() -> None:
    assert format_path("object", path("spec.containers[].image")) == "object.spec.containers[].image"
    assert format_path("object", ("metadata", "labels", "app.kubernetes.io/name")) == \
        "object.metadata.labels['app.kubernetes.io/name']"


# --- CRDs -------------------------------------------------------------------------------------

CRD_YAML = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              port:
                x-kubernetes-int-or-string: true
                anyOf: [{type: integer}, {type: string}]
              parts:
                type: array
                items:
                  type: object
                  properties:
                    name: {type: string}
              settings:
                type: object
                additionalProperties: {type: string}
              config:
                type: object
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            properties:
              ready: {type: boolean}
  - name: v1alpha1
    served: true
    storage: false
"""


def widget(version: str = "v1") -> KindSchema:
    source = CrdSchemas.from_documents([yaml.safe_load(CRD_YAML)])
    found = source.schema_for("example.com", version, "Widget")
    assert found is not None
    return found


@pytest.mark.parametrize(("field", "type_"), [
    ("spec.size", "integer"),
    ("spec.port", "int-or-string"),
    ("spec.parts[].name", "string"),
    ("spec.settings.anyKey", "string"),
    ("status.ready", "boolean"),
    ("metadata.labels", "map"),  # ObjectMeta is implicit in every custom resource
    ("metadata.namespace", "string"),
    ("kind", "string"),
])
def test_crd_fields_resolve(field: str, type_: str) -> None:
    found = resolve(widget(), path(field))
    assert found.ok, found.problem
    assert found.type == type_


def test_crd_misspelt_field() -> None:
    found = resolve(widget(), path("spec.sise"))
    assert not found.ok and found.problem.startswith("no such field (known: size")


def test_preserve_unknown_fields_allows_anything_below() -> None:
    found = resolve(widget(), path("spec.config.any.depth[].at.all"))
    assert found.ok and found.type == "unknown"


def test_crd_version_without_schema_keeps_everything() -> None:
    assert resolve(widget("v1alpha1"), path("spec.anything")).ok


def test_non_crd_documents_are_ignored() -> None:
    source = CrdSchemas.from_documents([{"kind": "ConfigMap", "metadata": {"name": "x"}}])
    assert source.kinds == {}


# --- cluster OpenAPI v3 -------------------------------------------------------------------------

def openapi_document() -> dict[str, Any]:
    ref = "#/components/schemas/"
    return {
        "openapi": "3.0.0",
        "components": {"schemas": {
            "com.example.v1.Gadget": {
                "type": "object",
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Gadget"}],
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"allOf": [{"$ref": ref + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
                                 "default": {}},
                    "spec": {"allOf": [{"$ref": ref + "com.example.v1.GadgetSpec"}]},
                },
            },
            "com.example.v1.GadgetSpec": {
                "type": "object",
                "properties": {"target": {"$ref": ref + "com.example.v1.Target"},
                               "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            },
            # A $ref chain: Target -> TargetAlias -> TargetBody.
            "com.example.v1.Target": {"$ref": ref + "com.example.v1.TargetAlias"},
            "com.example.v1.TargetAlias": {"$ref": ref + "com.example.v1.TargetBody"},
            "com.example.v1.TargetBody": {"type": "object",
                                          "properties": {"port": {"x-kubernetes-int-or-string": True}}},
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
                "type": "object", "properties": {"name": {"type": "string"},
                                                 "labels": {"type": "object",
                                                            "additionalProperties": {"type": "string"}}}},
        }},
    }


def gadget() -> KindSchema:
    found = OpenAPISchemas.from_documents([openapi_document()]).schema_for("example.com", "v1", "Gadget")
    assert found is not None
    return found


def test_openapi_ref_chain_and_allof_resolve() -> None:
    found = resolve(gadget(), path("spec.target.port"))
    assert found.ok and found.type == "int-or-string"
    assert resolve(gadget(), path("metadata.labels.team")).type == "string"
    assert resolve(gadget(), path("spec.extra.anything.goes")).ok


def test_openapi_misspelt_field_behind_refs() -> None:
    found = resolve(gadget(), path("spec.target.prot"))
    assert not found.ok and found.problem == "no such field (known: port)"


def test_openapi_broken_ref_says_it_cannot_check() -> None:
    document = openapi_document()
    document["components"]["schemas"]["com.example.v1.TargetBody"] = {"$ref": "#/components/schemas/Missing"}
    found = OpenAPISchemas.from_documents([document]).schema_for("example.com", "v1", "Gadget")
    assert found is not None
    result = resolve(found, path("spec.target.port"))
    assert not result.ok and "cannot be checked" in result.problem and "Missing" in result.problem


def test_not_an_openapi_document() -> None:
    with pytest.raises(SchemaError):
        OpenAPISchemas.from_documents([{"swagger": "2.0"}])


def test_the_chain_prefers_cluster_and_crd_documents_over_builtins() -> None:
    crd = yaml.safe_load(CRD_YAML)
    source = schema_source(crd_documents=[crd], openapi_documents=[openapi_document()])
    assert source.schema_for("example.com", "v1", "Widget") is not None
    assert source.schema_for("example.com", "v1", "Gadget") is not None
    assert source.schema_for("apps", "v1", "Deployment") is not None
