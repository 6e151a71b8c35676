"""One CRD source: crds/ is what the chart ships and what the models accept."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import yaml

from patternpolicy.models.pattern import Engine, PolicyGeneration

ROOT = Path(__file__).resolve().parents[2]


def crd(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "crds" / f"{name}.yaml").read_text())
    return loaded


def test_chart_ships_the_same_crds_byte_for_byte() -> None:
    sources = sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))
    assert sources == ["patterns.patternpolicy.io.yaml", "policyproposals.patternpolicy.io.yaml"]
    for name in sources:
        chart_copy = ROOT / "charts" / "patternpolicy" / "crds" / name
        assert chart_copy.read_bytes() == (ROOT / "crds" / name).read_bytes(), f"run `make sync-crds` ({name})"


def test_deploy_does_not_carry_its_own_crds() -> None:
    for path in (ROOT / "deploy").glob("*.yaml"):
        kinds = {d.get("kind") for d in yaml.safe_load_all(path.read_text()) if d}
        assert "CustomResourceDefinition" not in kinds, path


def test_crd_enums_match_the_models() -> None:
    spec = crd("patterns.patternpolicy.io")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    generation = spec["properties"]["policyGeneration"]["properties"]
    assert generation["engine"]["enum"] == list(get_args(Engine))
    fields = PolicyGeneration.model_fields
    assert generation["failureAction"]["enum"] == list(get_args(fields["failure_action"].annotation))
    assert generation["onDelete"]["enum"] == list(get_args(fields["on_delete"].annotation))


def test_short_names_and_scope() -> None:
    for name, short in (("patterns.patternpolicy.io", "pat"), ("policyproposals.patternpolicy.io", "pp")):
        spec = crd(name)["spec"]
        assert spec["scope"] == "Cluster"
        assert spec["names"]["shortNames"] == [short]
        assert spec["versions"][0]["subresources"] == {"status": {}}
