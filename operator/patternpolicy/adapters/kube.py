"""Kubernetes API calls: custom objects, server-side apply, dry-run, discovery."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from patternpolicy import constants as c
from patternpolicy.labels import pattern_selector

TIMEOUT = 30  # seconds, on every API call
APPLY_PATCH = "application/apply-patch+yaml"
KYVERNO_INSTALL = "https://kyverno.io/docs/installation/"


class KubeError(RuntimeError):
    """An API failure worded for people (status message, terminal)."""


class KubeTransientError(KubeError):
    """Not an answer about the object: an admission webhook or the apiserver was briefly unavailable."""


class KubeNotFound(KubeError):
    """The path does not exist (HTTP 404): for discovery, an API group or version the cluster does not serve."""


class KubeConflict(KubeError):
    """Server-side apply refused: fields of the object are managed by someone else (HTTP 409)."""


CONTEXT_ENV = "PATTERNPOLICY_KUBE_CONTEXT"  # set by --context; read by the operator's login too
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def use_kubeconfig(path: str | None, context: str | None = None) -> None:
    """Point every later call at this kubeconfig and context (the CLI's flags); None keeps the default."""
    if path:
        os.environ["KUBECONFIG"] = path
    if context:
        os.environ[CONTEXT_ENV] = context
    if path or context:
        api_client.cache_clear()


def explicit_kubeconfig() -> bool:
    """A context was chosen: the kubeconfig wins over the pod's service account."""
    return bool(os.environ.get(CONTEXT_ENV))


@functools.lru_cache(maxsize=1)
def api_client() -> client.ApiClient:
    try:
        if explicit_kubeconfig():
            raise config.ConfigException("a kubeconfig context was chosen")
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG"),
                                    context=os.environ.get(CONTEXT_ENV) or None)
        except (config.ConfigException, FileNotFoundError, TypeError) as exc:
            raise KubeError(f"cannot find cluster credentials (in-cluster or kubeconfig): {exc}") from exc
    return client.ApiClient()


def own_namespace() -> str:
    """The operator's namespace: `run --namespace`, else its pod's, else patternpolicy-system."""
    configured = os.environ.get(c.OWN_NAMESPACE_ENV, "").strip()
    if configured:
        return configured
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE, encoding="utf-8") as handle:
            return handle.read().strip() or c.DEFAULT_NAMESPACE
    except OSError:
        return c.DEFAULT_NAMESPACE


def get_json(path: str, accept: str = "application/json", timeout: float = TIMEOUT) -> dict[str, Any]:
    """A raw GET (discovery, tables) through the configured client and its credentials."""
    api = api_client()
    method, url, headers, body, post = api.param_serialize(
        "GET", path, header_params={"Accept": accept}, auth_settings=["BearerToken"])
    try:
        response = api.call_api(method, url, header_params=headers, body=body, post_params=post,
                                _request_timeout=timeout)
        response.read()
    except Exception as exc:  # urllib3 and socket errors: the cluster is unreachable
        raise KubeError(f"GET {path}: {exc}") from exc
    if response.status >= 400:
        error = KubeNotFound if response.status == 404 else KubeError
        raise error(f"GET {path}: HTTP {response.status} {response.data[:300]!r}")
    data = json.loads(response.data)
    return data if isinstance(data, dict) else {}


def list_crds() -> list[dict[str, Any]]:
    """Every CustomResourceDefinition, as plain dicts."""
    return list(get_json("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").get("items") or [])


def custom() -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client())


def explain(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    return str(body.get("message") or exc.reason or exc)


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


_PLURALS = {
    ("policies.kyverno.io", "ValidatingPolicy"): "validatingpolicies",
    ("kyverno.io", "ClusterPolicy"): "clusterpolicies",
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): "validatingadmissionpolicies",
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): "validatingadmissionpolicybindings",
}


def plural_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    group, version = split_api_version(obj["apiVersion"])
    plural = _PLURALS.get((group, obj["kind"]))
    if plural is None:
        raise KubeError(f"no plural known for {obj['apiVersion']} {obj['kind']}")
    return group, version, plural


def apply_cluster_object(obj: dict[str, Any], dry_run: bool = False, force: bool = True) -> dict[str, Any]:
    """Server-side apply of a cluster-scoped object; without force a field of another manager is a KubeConflict."""
    group, version, plural = plural_of(obj)
    try:
        result = custom().patch_cluster_custom_object(
            group, version, plural, obj["metadata"]["name"], obj,
            field_manager=c.FIELD_MANAGER, force=force, dry_run="All" if dry_run else None,
            _content_type=APPLY_PATCH, _request_timeout=TIMEOUT,
        )
    except ApiException as exc:
        if exc.status == 409 and not force:
            raise KubeConflict(f"{obj['kind']} {obj['metadata']['name']}: {explain(exc)}") from exc
        if exc.status in (500, 503, 504) or "failed calling webhook" in explain(exc):
            raise KubeTransientError(f"{obj['kind']} {obj['metadata']['name']}: {explain(exc)}") from exc
        if exc.status == 404:
            raise KubeError(f"{obj['kind']} is not served by this cluster; is its policy engine installed? "
                           f"(Kyverno: {KYVERNO_INSTALL})") from exc
        raise KubeError(f"{obj['kind']} {obj['metadata']['name']}: {explain(exc)}") from exc
    return dict(result or {})  # the generated client drops 201 bodies


def get_cluster_object(group: str, version: str, plural: str, name: str) -> dict[str, Any] | None:
    try:
        found = custom().get_cluster_custom_object(
            group, version, plural, name, _request_timeout=TIMEOUT)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise KubeError(f"get {plural}/{name}: {explain(exc)}") from exc
    return dict(found)


def replace_cluster_object(obj: dict[str, Any]) -> None:
    """PUT: the object becomes exactly `obj` (fields others added are dropped); needs metadata.resourceVersion."""
    group, version, plural = plural_of(obj)
    try:
        custom().replace_cluster_custom_object(group, version, plural, obj["metadata"]["name"], obj,
                                               field_manager=c.FIELD_MANAGER, _request_timeout=TIMEOUT)
    except ApiException as exc:
        if exc.status == 409:
            raise KubeConflict(f"{obj['kind']} {obj['metadata']['name']}: changed meanwhile") from exc
        raise KubeError(f"{obj['kind']} {obj['metadata']['name']}: {explain(exc)}") from exc


def list_cluster_objects(group: str, version: str, plural: str, label_selector: str | None = None
                         ) -> list[dict[str, Any]]:
    try:
        found = custom().list_cluster_custom_object(group, version, plural, label_selector=label_selector,
                                                    _request_timeout=TIMEOUT)
    except ApiException as exc:
        raise KubeError(f"list {plural}: {explain(exc)}") from exc
    return list(found.get("items") or [])


def get_pattern(name: str) -> dict[str, Any] | None:
    return get_cluster_object(c.GROUP, c.VERSION, c.PATTERN_PLURAL, name)


def create_proposal(body: dict[str, Any], dry_run: bool = False) -> dict[str, Any] | None:
    """Creates the proposal and returns it as stored; None if it already exists (a restart replays a generation).
    `dry_run`: nothing is created; the object is returned as the apiserver would store it (normalised)."""
    try:
        created = custom().create_cluster_custom_object(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, body,
                                                        _request_timeout=TIMEOUT,
                                                        **({"dry_run": "All"} if dry_run else {}))
    except ApiException as exc:
        if exc.status == 409:
            return None
        raise KubeError(f"create PolicyProposal {body['metadata']['name']}: {explain(exc)}") from exc
    if not created and not dry_run:  # the generated client may drop a 201 body: read it back
        created = get_proposal(body["metadata"]["name"])
    return dict(created or body)


def get_proposal(name: str) -> dict[str, Any] | None:
    return get_cluster_object(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, name)


def patch_status(plural: str, name: str, status: dict[str, Any]) -> None:
    try:
        custom().patch_cluster_custom_object_status(
            c.GROUP, c.VERSION, plural, name, {"status": status}, _request_timeout=TIMEOUT)
    except ApiException as exc:
        raise KubeError(f"status of {plural}/{name}: {explain(exc)}") from exc


def approve_proposal(name: str, resource_version: str | None = None, allow_unproven: bool = False) -> str:
    """Sets spec.approved; with `resource_version`, only if the proposal is still the one that was read."""
    spec: dict[str, Any] = {"approved": True, **({"allowUnproven": True} if allow_unproven else {})}
    body: dict[str, Any] = {"spec": spec}
    if resource_version:
        body["metadata"] = {"resourceVersion": resource_version}
    try:
        custom().patch_cluster_custom_object(
            c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, name, body, _request_timeout=TIMEOUT)
    except ApiException as exc:
        raise KubeError(f"approve {name}: {explain(exc)}") from exc
    return f"policyproposal.{c.GROUP}/{name} approved"


def set_proposal_owners(name: str, owners: list[dict[str, Any]]) -> None:
    """Replaces a proposal's ownerReferences (a merge patch replaces the whole list); gone already is fine."""
    try:
        custom().patch_cluster_custom_object(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, name,
                                             {"metadata": {"ownerReferences": owners}}, _request_timeout=TIMEOUT)
    except ApiException as exc:
        if exc.status != 404:
            raise KubeError(f"set the owners of {name}: {explain(exc)}") from exc


def list_proposals(pattern: str) -> list[dict[str, Any]]:
    """Proposals created for a pattern (all generations), oldest first."""
    try:
        found = custom().list_cluster_custom_object(
            c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, label_selector=pattern_selector(pattern),
            _request_timeout=TIMEOUT)
    except ApiException as exc:
        raise KubeError(f"list proposals of {pattern}: {explain(exc)}") from exc
    # The label narrows the list; the name in the spec decides (a hashed label value could be someone's name).
    items: list[dict[str, Any]] = [p for p in found.get("items") or []
                                   if ((p.get("spec") or {}).get("patternRef") or {}).get("name") == pattern]
    return sorted(items, key=lambda p: int((p.get("spec") or {}).get("patternRef", {}).get("generation", 0)))


def delete_cluster_object(api_version: str, kind: str, name: str, uid: str | None = None) -> bool:
    """Deletes one object we applied (only that very object when `uid` is given); False when it was gone."""
    group, version, plural = plural_of({"apiVersion": api_version, "kind": kind})
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=uid)) if uid else None
    try:
        custom().delete_cluster_custom_object(group, version, plural, name, body=options, _request_timeout=TIMEOUT)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise KubeError(f"delete {kind} {name}: {explain(exc)}") from exc
    return True


def merge_patch_cluster_object(api_version: str, kind: str, name: str, patch: dict[str, Any]) -> None:
    group, version, plural = plural_of({"apiVersion": api_version, "kind": kind})
    try:
        custom().patch_cluster_custom_object(group, version, plural, name, patch,
                                             _content_type="application/merge-patch+json", _request_timeout=TIMEOUT)
    except ApiException as exc:
        if exc.status != 404:
            raise KubeError(f"patch {kind} {name}: {explain(exc)}") from exc
