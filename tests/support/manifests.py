"""Rendered manifests (helm template, kustomize build) applied to the real API server, as kubectl would."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

FIELD_MANAGER = "patternpolicy-tests"


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def run(binary: Path, *args: str | Path) -> str:
    """The binary's stdout; its stderr in the failure when it exits non-zero."""
    done = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{binary.name} {' '.join(map(str, args))} failed:\n{done.stderr}"
    return done.stdout


def apply(api: client.ApiClient, docs: list[dict[str, Any]], dry_run: bool = False) -> None:
    """Server-side apply of every object (`kubectl apply --server-side`), or its server-side dry run.

    Namespaces, listed or only referred to (`helm template` lists none), are created for real even in a
    dry run: nothing can be dry-run into a namespace that does not exist.
    """
    dyn = dynamic.DynamicClient(api)
    core = client.CoreV1Api(api)
    for namespace in sorted({d["metadata"]["namespace"] for d in docs if d["metadata"].get("namespace")}):
        try:
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        except ApiException as exc:
            if exc.status != 409:
                raise
    for doc in sorted(docs, key=lambda d: d["kind"] != "Namespace"):
        resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        meta = doc["metadata"]
        extra = {"dry_run": "All"} if dry_run and doc["kind"] != "Namespace" else {}
        resource.server_side_apply(body=doc, name=meta["name"], namespace=meta.get("namespace"),
                                   field_manager=FIELD_MANAGER, force_conflicts=True, **extra)


def impersonating(user: str) -> client.ApiClient:
    """A client acting as `user` (a service account's username), for real requests."""
    api = client.ApiClient(client.Configuration.get_default_copy())
    api.set_default_header("Impersonate-User", user)
    api.set_default_header("Impersonate-Group", "system:serviceaccounts")
    return api


def allowed(user: str, verb: str, resource: str, group: str = "", namespace: str | None = None) -> bool:
    """What RBAC says (a SubjectAccessReview, as `kubectl auth can-i --as`)."""
    review = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
        user=user, groups=["system:serviceaccounts", "system:authenticated"],
        resource_attributes=client.V1ResourceAttributes(verb=verb, resource=resource, group=group,
                                                        namespace=namespace)))
    answer = client.AuthorizationV1Api().create_subject_access_review(review)
    return bool(answer.status.allowed)
