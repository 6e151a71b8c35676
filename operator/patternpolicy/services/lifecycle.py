"""Keeping applied policies when a pattern is deleted with onDelete: Orphan (its own objects only)."""

from __future__ import annotations

import logging
from typing import Any

from patternpolicy.adapters.kube import (
    KubeError,
    get_cluster_object,
    list_proposals,
    merge_patch_cluster_object,
    plural_of,
)
from patternpolicy.services.apply import ORPHANED_LABEL, foreign

log = logging.getLogger(__name__)


def applied_of(pattern: str) -> list[dict[str, Any]]:
    """Policies of the pattern that are, or may already be, in the cluster.

    An approved proposal's policies count even before its status says Applied: the policies are
    created first and the status is written after, and a pattern deleted in between must not
    lose them.
    """
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for proposal in list_proposals(pattern):
        status = proposal.get("status") or {}
        if status.get("phase") == "Applied":
            for policy in status.get("appliedPolicies") or []:
                found[(policy["kind"], policy["name"])] = policy
        if (proposal.get("spec") or {}).get("approved"):
            for obj in (proposal.get("spec") or {}).get("policies") or []:
                name = str((obj.get("metadata") or {}).get("name"))
                found.setdefault((str(obj.get("kind")), name),
                                 {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": name})
    return list(found.values())


def orphan_policies(pattern: str) -> tuple[list[str], list[str]]:
    """Strips ownership from the pattern's applied policies so that garbage collection keeps them.

    Never raises: the caller's finalizer must always be released, even when the cluster
    has no policies or no engine left. Returns (orphaned names, problems).
    """
    orphaned, problems = [], []
    try:
        policies = applied_of(pattern)
        proposals = {p["metadata"]["name"]: p["metadata"]["uid"] for p in list_proposals(pattern)}
    except KubeError as exc:
        return [], [str(exc)]
    for policy in policies:
        try:
            group, version, plural = plural_of(policy)
            live = get_cluster_object(group, version, plural, policy["name"])
            if live is None or foreign(live, pattern, proposals):
                continue  # only the pattern's own objects are touched
            merge_patch_cluster_object(policy["apiVersion"], policy["kind"], policy["name"], {
                "metadata": {"ownerReferences": None, "labels": {ORPHANED_LABEL: "true"}}})
            orphaned.append(policy["name"])
        except KubeError as exc:
            problems.append(str(exc))
    return orphaned, problems
