"""Applying an approved proposal, and retiring what it replaces."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from patternpolicy import constants as c
from patternpolicy.adapters.kube import (
    KubeError,
    apply_cluster_object,
    delete_cluster_object,
    list_proposals,
    patch_status,
)
from patternpolicy.models.conditions import set_condition

Adopt = Callable[[dict[str, Any]], None]  # sets the ownerReference to the proposal (kopf.adopt)


@dataclass
class Applied:
    policies: list[dict[str, str]]
    superseded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def applied_policies_of(pattern: str, exclude: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Policies that the pattern's currently Applied proposals put in place, and those proposals' names."""
    proposals = [p for p in list_proposals(pattern)
                 if p["metadata"]["name"] != exclude and (p.get("status") or {}).get("phase") == "Applied"]
    policies = [pol for p in proposals for pol in (p.get("spec") or {}).get("policies") or []]
    return policies, [p["metadata"]["name"] for p in proposals]


def apply_proposal(proposal: dict[str, Any], adopt: Adopt) -> Applied:
    meta, spec = proposal["metadata"], proposal.get("spec") or {}
    pattern = (spec.get("patternRef") or {}).get("name", "")
    result = Applied(policies=[])
    for policy in spec.get("policies") or []:
        owned = copy.deepcopy(policy)
        adopt(owned)
        owned["metadata"].setdefault("labels", {})[c.PROPOSAL_LABEL] = meta["name"]
        apply_cluster_object(owned)  # same name: replaced in place, ownership moves to this proposal
        result.policies.append({"apiVersion": owned["apiVersion"], "kind": owned["kind"],
                                "name": owned["metadata"]["name"]})
    if pattern:
        retire_previous(pattern, meta["name"], result)
    return result


def retire_previous(pattern: str, current: str, result: Applied) -> None:
    """Older Applied proposals become Superseded; their policies that the new one dropped are deleted."""
    kept = {(p["kind"], p["name"]) for p in result.policies}
    for old in list_proposals(pattern):
        name = old["metadata"]["name"]
        status = old.get("status") or {}
        if name == current or status.get("phase") != "Applied":
            continue
        for policy in status.get("appliedPolicies") or []:
            if (policy["kind"], policy["name"]) not in kept and delete_cluster_object(
                    policy["apiVersion"], policy["kind"], policy["name"]):
                result.removed.append(policy["name"])
        generation = int((old.get("metadata") or {}).get("generation") or 1)
        conditions = set_condition(list(status.get("conditions") or []), "Superseded", "True", "ReplacedByNewer",
                                   f"replaced by {current}", generation)
        try:
            patch_status(c.PROPOSAL_PLURAL, name, {"phase": "Superseded", "supersededBy": current,
                                                   "conditions": conditions})
        except KubeError:
            continue  # it may have been deleted meanwhile
        result.superseded.append(name)
