"""Bad cluster state (tests/data/bad_inputs/cluster_state.yaml) on the real control plane, operator in-process.

Each case's steps change the cluster as a person or another controller would; its expectations are what a
user sees afterwards: a condition that names the problem, a phase, and what was (not) applied. Cases an
existing test covers name it in `covered_by`; the catalogue test checks that it exists.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube import eventually, get_or_none, install_crds

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "bad_inputs" / "cluster_state.yaml"
G, V = "patternpolicy.io", "v1alpha1"
VP = ("policies.kyverno.io", "v1", "validatingpolicies")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


CATALOGUE: dict[str, Any] = yaml.safe_load(DATA.read_text())
CASES: list[dict[str, Any]] = CATALOGUE["cases"]
RUN = [c for c in CASES if "steps" in c]


def test_the_catalogue_is_complete_and_every_covered_case_names_a_test_that_exists() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 12, ids
    counts = Counter(c["category"] for c in CASES)
    for category, fewest in CATALOGUE["categories"].items():
        assert counts[category] >= fewest, (category, counts)
    assert set(counts) == set(CATALOGUE["categories"]), "every category is declared"
    for case in CASES:
        assert case["id"].startswith(case["category"] + "-") and case["description"], case["id"]
        assert ("steps" in case) != ("covered_by" in case), f"{case['id']}: steps or covered_by, not both"
        if "covered_by" in case:
            path, _, name = case["covered_by"].partition("::")
            tree = ast.parse((ROOT / path).read_text())
            tests = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in tests, f"{case['id']}: {case['covered_by']} does not exist"


# --- steps ---------------------------------------------------------------------------------------------------

def proposal(api: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    return get_or_none(api, G, V, "policyproposals", name) or {}


def _crd(kind: str, group: str) -> dict[str, Any]:
    plural = kind.lower() + "s"
    schema = {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
        "type": "object", "properties": {"size": {"type": "integer"}}}}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}]}}


def _create_pattern(api: client.CustomObjectsApi, name: str, spec: dict[str, Any], wait: str) -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name}, "spec": spec})
    if wait == "Pending":
        eventually(lambda: proposal(api, f"{name}-g1").get("status", {}).get("phase") == "Pending", timeout=90,
                   what=f"{name}-g1 Pending")
    else:
        eventually(lambda: _conditions(get_or_none(api, G, V, "patterns", name)).get("Analyzed"), timeout=90,
                   what=f"{name} analysed")


def run_step(api: client.CustomObjectsApi, step: dict[str, Any]) -> None:
    (action, args), = step.items()
    if action == "pattern":
        _create_pattern(api, args["name"], args["spec"], args.get("wait", "Pending"))
    elif action == "crd":
        install_crds(client.ApiextensionsV1Api(), [_crd(args["kind"], args["group"])])
    elif action == "delete_crd":
        name = _crd(args["kind"], args["group"])["metadata"]["name"]
        client.ApiextensionsV1Api().delete_custom_resource_definition(name)
        eventually(lambda: _gone(name), timeout=60, what=f"{name} deleted")
    elif action == "proposal":
        api.create_cluster_custom_object(G, V, "policyproposals",
                                         {"apiVersion": f"{G}/{V}", "kind": "PolicyProposal", **args["body"]})
    elif action == "patch":
        body = {k: v for k, v in args.items() if k in ("spec", "metadata")}
        api.patch_cluster_custom_object(G, V, "policyproposals", args["name"], body)
    elif action == "approve":
        api.patch_cluster_custom_object(G, V, "policyproposals", args["name"], {"spec": {"approved": True}})
    else:
        raise AssertionError(f"unknown step {action}")


def _gone(crd: str) -> bool:
    try:
        client.ApiextensionsV1Api().read_custom_resource_definition(crd)
    except ApiException as exc:
        return exc.status == 404
    return False


# --- expectations --------------------------------------------------------------------------------------------

def _conditions(obj: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in ((obj or {}).get("status") or {}).get("conditions") or []}


def _condition_holds(obj: dict[str, Any] | None, want: dict[str, Any]) -> bool:
    found = _conditions(obj).get(want["type"]) or {}
    return ((found.get("status"), found.get("reason")) == (want["status"], want["reason"])
            and str(want.get("message", "")) in str(found.get("message", "")))


def _policy(api: client.CustomObjectsApi, name: str) -> dict[str, Any] | None:
    return get_or_none(api, *VP, name)


def check(api: client.CustomObjectsApi, expectation: dict[str, Any]) -> Any:
    """What was observed when the expectation holds, else None (polled by `eventually`)."""
    (kind, args), = expectation.items()
    if kind == "pattern_condition":
        found = get_or_none(api, G, V, "patterns", args["name"])
        return found if _condition_holds(found, args) else None
    if kind == "proposal_condition":
        found = proposal(api, args["name"])
        return found if _condition_holds(found, args) else None
    if kind == "pattern_note":
        status = (get_or_none(api, G, V, "patterns", args["name"]) or {}).get("status") or {}
        notes = (status.get("analysis") or {}).get("notes") or []
        return notes if any(args["contains"] in n for n in notes) else None
    if kind == "phase":
        return proposal(api, args["name"]).get("status", {}).get("phase") == args["is"]
    if kind in ("absent", "present"):
        found = _policy(api, args["name"]) if args["kind"] == "policy" else proposal(api, args["name"]) or None
        return (found is None) == (kind == "absent")
    if kind == "labels_fit":
        found = _policy(api, args["name"])
        labels = (found or {}).get("metadata", {}).get("labels") or {}
        return bool(labels) and all(len(v) <= 63 and LABEL_VALUE.match(v) for v in labels.values())
    if kind == "owner_restored":
        owners = proposal(api, args["name"]).get("metadata", {}).get("ownerReferences") or []
        return any(o.get("kind") == "Pattern" and o.get("controller") for o in owners)
    raise AssertionError(f"unknown expectation {kind}")


def _observed(api: client.CustomObjectsApi, case: dict[str, Any]) -> dict[str, Any]:
    """The statuses of the case's patterns and proposals, for a failure message."""
    names = {str(a["name"]) for e in case["expect"] for a in e.values() if "name" in a}
    return {n: (get_or_none(api, G, V, "patterns", n) or proposal(api, n) or {}).get("status") for n in sorted(names)}


def _cleanup(api: client.CustomObjectsApi, case: dict[str, Any]) -> None:
    for step in case["steps"]:
        (action, args), = step.items()
        plural, name = {"pattern": ("patterns", args.get("name")),
                        "proposal": ("policyproposals", (args.get("body") or {}).get("metadata", {}).get("name"))
                        }.get(action, (None, None))
        if plural and name:
            try:
                api.delete_cluster_custom_object(G, V, plural, name)
            except ApiException as exc:
                if exc.status != 404:
                    raise


@pytest.mark.parametrize("case", RUN, ids=lambda c: c["id"])
def test_bad_cluster_state(api: client.CustomObjectsApi, operator: KopfRunner, case: dict[str, Any]) -> None:
    try:
        for step in case["steps"]:
            run_step(api, step)
        for expectation in case["expect"]:
            try:
                eventually(lambda e=expectation: check(api, e), timeout=60, what=f"{case['id']}: {expectation}")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\nobserved: {_observed(api, case)}") from None
        # Absent stays absent: a policy that should never be applied is not applied a moment later either.
        for expectation in (e for e in case["expect"] if "absent" in e):
            assert check(api, expectation), f"{case['id']}: {expectation} no longer holds"
    finally:
        _cleanup(api, case)
