"""The apiserver refuses the bad Pattern inputs the CRD schema can express (same catalogue as the parser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "bad_inputs" / "patterns.yaml").read_text())["cases"]


def _create(api: client.CustomObjectsApi, case: dict[str, Any]) -> None:
    body = {"apiVersion": "patternpolicy.io/v1alpha1", "kind": "Pattern", "metadata": {"name": case["name"]},
            "spec": case["spec"]}
    # Strict, as kubectl applies by default: an unknown field is an error, not silently dropped.
    api.create_cluster_custom_object("patternpolicy.io", "v1alpha1", "patterns", body, dry_run="All",
                                     field_validation="Strict")


@pytest.mark.parametrize("case", [c for c in CASES if c["apiserver"] == "rejects"], ids=lambda c: c["id"])
def test_apiserver_refuses_bad_pattern(api: client.CustomObjectsApi, case: dict[str, Any]) -> None:
    with pytest.raises(ApiException) as refused:
        _create(api, case)
    # 422: the schema refused a value; 400: strict decoding refused an unknown field.
    assert refused.value.status in (400, 422), refused.value.body


@pytest.mark.parametrize("case", [c for c in CASES if c["error"] is None], ids=lambda c: c["id"])
def test_apiserver_accepts_good_unicode_pattern(api: client.CustomObjectsApi, case: dict[str, Any]) -> None:
    _create(api, case)
