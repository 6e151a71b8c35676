"""Small test helpers over the real API: install CRDs, wait for conditions."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client, utils
from kubernetes.client.exceptions import ApiException

T = TypeVar("T")


def install_crds(ext: client.ApiextensionsV1Api, crds: list[dict[str, Any]]) -> None:
    for crd in crds:
        try:
            ext.create_custom_resource_definition(crd)
        except ApiException as exc:
            if exc.status != 409:
                raise
    for crd in crds:
        eventually(lambda crd=crd: _established(ext, crd["metadata"]["name"]), timeout=30,
                   what=f"CRD {crd['metadata']['name']} established")


def install_guard(api_client: client.ApiClient, root: Path) -> None:
    """deploy/approval-guard.yaml and the ServiceAccount it names (without it every proposal write is denied):
    the operator applies nothing without the guard (it fails closed)."""
    account = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "patternpolicy-system"}},
               {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "patternpolicy", "namespace": "patternpolicy-system"}}]
    for doc in account + list(yaml.safe_load_all((root / "deploy" / "approval-guard.yaml").read_text())):
        try:
            utils.create_from_dict(api_client, doc)
        except utils.FailToCreateError as exc:
            if not all(e.status == 409 for e in exc.api_exceptions):
                raise


def _established(ext: client.ApiextensionsV1Api, name: str) -> bool:
    found = ext.read_custom_resource_definition(name)
    return any(c.type == "Established" and c.status == "True" for c in (found.status.conditions or []))


def eventually(probe: Callable[[], T | None], timeout: float = 30, interval: float = 0.25,
               what: str = "condition") -> T:
    """Polls until probe returns something truthy; fails with what it last saw."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except ApiException as exc:
            last = f"API error {exc.status}: {exc.reason}"
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last observed: {last!r}")


def get_or_none(api: client.CustomObjectsApi, group: str, version: str, plural: str,
                name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = api.get_cluster_custom_object(group, version, plural, name)
        return found
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
