"""Where samples go: namespaced kinds into a governed namespace, cluster-scoped kinds into none."""

from __future__ import annotations

from typing import Any

from patternpolicy.models.rules import KindRef
from patternpolicy.services.pipeline import _placed

SERVER = KindRef(group="dbforpostgresql.azure.upbound.io", version="v1beta2", kind="FlexibleServer",
                 plural="flexibleservers", namespaced=False)
DEPLOYMENT = KindRef(group="apps", version="v1", kind="Deployment", plural="deployments")


def sample(kind: KindRef, namespace: str | None) -> dict[str, Any]:
    meta = {"name": "s", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta}


def test_a_cluster_scoped_sample_has_no_namespace_whatever_was_written() -> None:
    placed = _placed(sample(SERVER, "default"), "team", [SERVER])
    assert placed["metadata"] == {"name": "s"}
    assert _placed(sample(SERVER, "default"), "team", [SERVER], keep=True)["metadata"] == {"name": "s"}


def test_a_namespaced_sample_goes_where_the_policy_applies_unless_the_rule_reads_the_namespace() -> None:
    original = sample(DEPLOYMENT, "default")
    assert _placed(original, "team", [DEPLOYMENT])["metadata"]["namespace"] == "team"
    assert _placed(original, "team", [DEPLOYMENT], keep=True)["metadata"]["namespace"] == "default"
    assert original["metadata"]["namespace"] == "default"  # a copy is placed, not the rule's sample
