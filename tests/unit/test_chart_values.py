"""The chart's values: typed by a closed schema, documented in the chart README, RBAC never wide."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "patternpolicy"
SCHEMA: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
VALUES: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
# Kubernetes structures passed through as they are (the API server checks them), below their top level.
FREE_FORM = {"valueFrom", "nodeAffinity", "podAffinity", "podAntiAffinity"}
# Kubernetes structures documented as a whole in the README.
WHOLE = {"podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe"}


def errors(values: dict[str, Any]) -> list[str]:
    return [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(values)]


def leaf_keys(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the values: a map with keys is walked, anything else (lists, {}) is a leaf."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in WHOLE:
            yield from leaf_keys(value, path + ".")
        else:
            yield path


def objects(schema: dict[str, Any], path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if schema.get("type") == "object" or "properties" in schema:
        yield path, schema
    for key, sub in (schema.get("properties") or {}).items():
        yield from objects(sub, f"{path}.{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from objects(schema[key], f"{path}[{key}]")


def test_defaults_are_valid() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert errors(VALUES) == []


def test_every_object_level_is_closed() -> None:
    for path, schema in objects(SCHEMA):
        if path.rsplit(".", 1)[-1] in FREE_FORM:
            continue
        closed = schema.get("additionalProperties") is False or isinstance(schema.get("additionalProperties"), dict)
        assert closed, f"{path} accepts unknown keys"


@pytest.mark.parametrize("change", [
    lambda v: v.update(replicaCount=2),                                   # a key Kyverno's chart has, not ours
    lambda v: v["image"].update(tags="x"),                                # a typo, nested
    lambda v: v["metrics"]["serviceMonitor"].update(enable=True),         # a typo, two levels down
    lambda v: v["securityContext"].update(runAsNonroot=True),             # a typo in a Kubernetes structure
    lambda v: v.update(analyser="gpt"),
    lambda v: v["logging"].update(format="xml"),
    lambda v: v["impact"]["readableResources"][0]["resources"].append("secrets"),
    lambda v: v["impact"]["readableResources"].append({"apiGroup": "*", "resources": ["pods"]}),
    lambda v: v["impact"]["readableResources"].append({"apiGroup": "", "resources": ["*"]}),
    lambda v: v["image"].update(digest="latest"),
], ids=["unknown-top", "unknown-nested", "unknown-deep", "unknown-k8s-field", "analyser", "log-format",
        "secrets", "any-group", "any-resource", "digest"])
def test_schema_rejects(change: Any) -> None:
    values = copy.deepcopy(VALUES)
    change(values)
    assert errors(values)


def test_every_value_is_documented_in_the_chart_readme() -> None:
    readme = (CHART / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Za-z0-9_.]+)` \|", readme, re.MULTILINE))
    keys = set(leaf_keys(VALUES))
    assert keys - documented == set(), "document these values in charts/patternpolicy/README.md"
    assert documented - keys == set(), "the README documents values that do not exist"
    top_schema = set(SCHEMA["properties"])
    assert top_schema == set(VALUES), "values.yaml and values.schema.json name different top-level keys"


def test_crd_upgrade_is_documented() -> None:
    for doc in (CHART / "README.md", ROOT / "docs" / "install.md"):
        assert "kubectl apply --server-side -f" in doc.read_text(), doc


def rules(path: Path, name: str) -> list[dict[str, Any]]:
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc["kind"] == "ClusterRole" and doc["metadata"]["name"] == name:
            found: list[dict[str, Any]] = doc["rules"]
            return found
    raise AssertionError(f"no ClusterRole {name} in {path}")


def test_deploy_rbac_has_no_wildcard_and_reads_what_the_chart_reads() -> None:
    for role in rules(ROOT / "deploy" / "operator.yaml", "patternpolicy"):
        assert "*" not in role.get("resources", []) and "*" not in role.get("apiGroups", []), role
    reader = rules(ROOT / "deploy" / "impact-reader.yaml", "patternpolicy-impact-reader")
    assert all(r["verbs"] == ["get", "list"] for r in reader)
    assert [{"apiGroup": r["apiGroups"][0], "resources": r["resources"]} for r in reader] == \
        VALUES["impact"]["readableResources"]
    assert not any("secrets" in r["resources"] for r in reader)


def test_the_kustomization_lists_every_manifest_in_deploy() -> None:
    kustomization = yaml.safe_load((ROOT / "deploy" / "kustomization.yaml").read_text())
    manifests = {p.name for p in (ROOT / "deploy").glob("*.yaml")} - {"kustomization.yaml", "kustomizeconfig.yaml"}
    assert manifests <= set(kustomization["resources"])
    assert "../crds" in kustomization["resources"] and kustomization["configurations"] == ["kustomizeconfig.yaml"]
