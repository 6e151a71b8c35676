"""A Kyverno CLI test suite (kyverno-test.yaml, policies, resources, values) as files.

The same suite is what `generate` writes for GitOps repositories, so anyone
can re-run `kyverno test` on it in their own CI.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from patternpolicy.compile.scope import NAMESPACE_NAME_LABEL
from patternpolicy.discovery.builtin_kinds import builtin_kinds
from patternpolicy.yamlio import dump, dump_all

CLI_API_VERSION = "cli.kyverno.io/v1alpha1"
POLICY_FILE = "policies.yaml"
RESOURCE_FILE = "resources.yaml"
VALUES_FILE = "values.yaml"
TEST_FILE = "kyverno-test.yaml"
CLUSTER_RESOURCES_FILE = "cluster-resources.yaml"
CLI_DEFAULT_NAMESPACE = "default"


def _result(policy_kind: str, kind: str, policy: str, rule: str, names: list[str], verdict: str) -> dict[str, Any]:
    """One expected result; how the policy is named depends on its API (see kubectl-kyverno test docs)."""
    engine: dict[str, Any] = {
        "ValidatingPolicy": {"isValidatingPolicy": True},
        "ValidatingAdmissionPolicy": {"isValidatingAdmissionPolicy": True},
    }.get(policy_kind, {"rule": rule})
    return {**engine, "kind": kind, "policy": policy, "resources": sorted(names),
            "result": "pass" if verdict == "allow" else "fail"}


def _group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def has_custom_kinds(tests: list[dict[str, Any]]) -> bool:
    """Whether any sample is of a kind outside the built-in API (its CRD is then needed for the suite)."""
    builtin = {(k.group, k.kind) for k, _ in builtin_kinds()}
    return any((_group_of(str(t["resource"].get("apiVersion", ""))), t["resource"].get("kind")) not in builtin
               for t in tests)


def needed_crds(tests: list[dict[str, Any]], crds: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The CRDs that serve the sample resources' kinds."""
    wanted = {(_group_of(str(t["resource"].get("apiVersion", ""))), t["resource"].get("kind")) for t in tests}
    return [c for c in crds if ((c.get("spec") or {}).get("group"), ((c.get("spec") or {}).get("names") or {})
                                .get("kind")) in wanted]


def _crd_files(crds: list[Mapping[str, Any]]) -> dict[str, str]:
    """One file per CRD (the CLI reads one document per path) and the ClusterResource naming them.

    Without them the CLI cannot map a custom kind to its resource for ValidatingAdmissionPolicies.
    """
    files = {f"crd-{c['metadata']['name']}.yaml": dump(_trimmed(c)) for c in crds}
    cluster = {"apiVersion": CLI_API_VERSION, "kind": "ClusterResource", "metadata": {"name": "crds"},
               "spec": {"crds": sorted(files)}}
    return {**files, CLUSTER_RESOURCES_FILE: dump(cluster)} if files else {}


def _trimmed(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The CRD as written, without what the server added (status, managed fields, uid)."""
    meta = crd.get("metadata") or {}
    return {"apiVersion": crd.get("apiVersion", "apiextensions.k8s.io/v1"), "kind": "CustomResourceDefinition",
            "metadata": {"name": meta.get("name")}, "spec": crd.get("spec")}


Identity = tuple[str, str, str, str, str]  # apiVersion, kind, namespace, name, content


def _identity(resource: Mapping[str, Any]) -> Identity:
    """Two samples are one resource only when they are the same object with the same content: a model
    may call its compliant and its violating sample both `web`."""
    meta = resource.get("metadata") or {}
    return (str(resource.get("apiVersion", "")), str(resource["kind"]), str(meta.get("namespace", "")),
            str(meta["name"]), json.dumps(resource, sort_keys=True, default=str))


def _unique_names(resources: Sequence[Mapping[str, Any]]) -> dict[Identity, str]:
    """A name per sample that no other sample of the suite has.

    `kyverno test` matches expected results to resources by name alone (kind, apiVersion and
    namespace in a result do not tell two resources apart; Kyverno 1.19 CLI): a Pod and a Deployment
    both called `bad` would each be checked against the other's verdict too. The first sample keeps
    its name; a later one of another kind or namespace gets the kind (then the namespace) appended,
    and a later one of the same kind and name but other content a number.
    """
    names: dict[Identity, str] = {}
    taken: set[str] = set()
    for resource in resources:
        identity = _identity(resource)
        if identity in names:
            continue
        _, kind, namespace, name, _ = identity
        fallbacks = (f"{name}-{kind.lower()}-{n}" for n in itertools.count(2))
        tried = itertools.chain([name, f"{name}-{kind.lower()}", f"{name}-{kind.lower()}-{namespace}".rstrip("-")],
                                fallbacks)
        unique = next(c for c in tried if c not in taken)
        names[identity] = unique
        taken.add(unique)
    return names


def sample_names(tests: Sequence[Mapping[str, Any]]) -> list[str]:
    """The name each test's sample carries in the suite (and so in the CLI's results), in order."""
    names = _unique_names([t["resource"] for t in tests])
    return [names[_identity(t["resource"])] for t in tests]


def _renamed(resource: dict[str, Any], name: str) -> dict[str, Any]:
    if resource["metadata"]["name"] == name:
        return resource
    return {**resource, "metadata": {**resource["metadata"], "name": name}}


def suite_files(name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
                crds: Sequence[Mapping[str, Any]] = ()) -> dict[str, str]:
    """File name -> content. `tests` items: {policy, expect, resource}; `crds`: CRDs that may serve their kinds."""
    kinds = {p["metadata"]["name"]: p["kind"] for p in policies if p["kind"] != "ValidatingAdmissionPolicyBinding"}
    grouped: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    resources: list[dict[str, Any]] = []
    names = _unique_names([t["resource"] for t in tests])
    namespaces: set[str] = set()
    for test in tests:
        resource = test["resource"]
        meta = resource.get("metadata", {})
        identity = _identity(resource)
        grouped[(test["policy"], test.get("rule", ""), resource["kind"], test["expect"])].append(names[identity])
        if not any(_identity(r) == identity for r in resources):
            resources.append(_renamed(resource, names[identity]))
        if meta.get("namespace"):
            namespaces.add(meta["namespace"])
        elif resource["kind"] != "Namespace":
            # The CLI puts every object without a namespace, cluster-scoped ones too, in `default` and
            # looks that namespace up: it must exist in the values, or the whole suite errors out.
            namespaces.add(CLI_DEFAULT_NAMESPACE)
    results = [_result(kinds.get(policy, "ValidatingPolicy"), kind, policy, rule, matched, expect)
               for (policy, rule, kind, expect), matched in sorted(grouped.items())]
    test_doc = {
        "apiVersion": CLI_API_VERSION, "kind": "Test", "metadata": {"name": name},
        "policies": [POLICY_FILE], "resources": [RESOURCE_FILE], "variables": VALUES_FILE, "results": results,
    }
    values = {
        "apiVersion": CLI_API_VERSION, "kind": "Value", "metadata": {"name": "values"},
        "namespaces": [
            {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns, "labels": {NAMESPACE_NAME_LABEL: ns}}}
            for ns in sorted(namespaces)
        ],
    }
    cluster = _crd_files(needed_crds(tests, crds))
    if cluster:
        test_doc["clusterResources"] = [CLUSTER_RESOURCES_FILE]
    return {
        **cluster,
        POLICY_FILE: dump_all(policies),
        RESOURCE_FILE: dump_all(resources),
        VALUES_FILE: dump(values),
        TEST_FILE: dump(test_doc),
    }
