"""Applying an approved proposal, keeping it in force, and retiring what it replaces.

Only objects the operator owns are written or deleted: an existing object must carry the
managed-by label and an ownerReference to a proposal of the same pattern (or be one of that
pattern's orphaned policies). Anything else with the same name is a conflict, left untouched.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from patternpolicy import constants as c
from patternpolicy.adapters.kube import (
    KubeConflict,
    KubeError,
    KubeNotFound,
    apply_cluster_object,
    delete_cluster_object,
    get_cluster_object,
    get_json,
    list_proposals,
    patch_status,
    plural_of,
    replace_cluster_object,
)
from patternpolicy.labels import label_value
from patternpolicy.models.rules import KindRef
from patternpolicy.services.impact_targets import targets

Adopt = Callable[[dict[str, Any]], None]  # sets the ownerReference to the proposal (kopf.adopt)
# The status an older proposal gets once replaced: (its conditions, replaced by, its generation) -> status.
Supersede = Callable[[list[dict[str, Any]], str, int], dict[str, Any]]
ORPHANED_LABEL = f"{c.GROUP}/orphaned"


class ApplyConflict(KubeError):
    """An object of the proposal exists and is not the pattern's own: nothing was overwritten."""


class KindNotServed(KubeError):
    """A kind the policies govern is not served (any more): its CRD was removed after the analysis."""


def unserved(policies: list[dict[str, Any]], kinds: Sequence[KindRef] = ()) -> list[str]:
    """The resources the policies match that the cluster does not serve, as `plural.group/version` (or the
    kind's name, for a ClusterPolicy kind `kinds`, the served kinds, do not know)."""
    found = targets(policies, kinds)
    missing = list(found.unserved)
    for target in found.found:
        if "*" in (target.group, target.version, target.plural):
            continue
        base = f"/apis/{target.group}/{target.version}" if target.group else f"/api/{target.version}"
        try:
            served = {r.get("name") for r in get_json(base).get("resources") or []}
        except KubeNotFound:
            served = set()
        if target.plural.partition("/")[0] not in served:
            missing.append(f"{target.name}/{target.version}")
    return sorted(missing)


@dataclass
class Applied:
    policies: list[dict[str, str]]
    superseded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)


def spec_digest(obj: dict[str, Any]) -> str:
    """sha256 of an object's spec as the server stores it: any later change to it is drift."""
    canonical = json.dumps(obj.get("spec") or {}, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def applied_policies_of(pattern: str, exclude: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Policies that the pattern's currently Applied proposals put in place, and those proposals' names."""
    proposals = [p for p in list_proposals(pattern)
                 if p["metadata"]["name"] != exclude and (p.get("status") or {}).get("phase") == "Applied"]
    policies = [pol for p in proposals for pol in (p.get("spec") or {}).get("policies") or []]
    return policies, [p["metadata"]["name"] for p in proposals]


def foreign(live: dict[str, Any], pattern: str, proposals: dict[str, str]) -> str | None:
    """Why `live` is not the pattern's own object (None: it is). `proposals`: the pattern's proposals, name -> uid."""
    meta = live.get("metadata") or {}
    labels = meta.get("labels") or {}
    if labels.get(c.MANAGED_BY_LABEL) != c.MANAGED_BY:
        return f"it lacks the label {c.MANAGED_BY_LABEL}={c.MANAGED_BY}"
    if labels.get(c.PATTERN_LABEL) != label_value(pattern):
        return f"it belongs to pattern {labels.get(c.PATTERN_LABEL)!r}"
    owners = meta.get("ownerReferences") or []
    if not owners and labels.get(ORPHANED_LABEL) == "true":
        return None  # kept by an earlier incarnation of this pattern (onDelete: Orphan)
    ours = [o for o in owners if o.get("kind") == "PolicyProposal" and o.get("apiVersion") == c.API_VERSION
            and proposals.get(str(o.get("name"))) == o.get("uid")]
    if not ours or len(ours) != len(owners):
        return "it is not owned by a proposal of this pattern"
    return None


def desired(policy: dict[str, Any], proposal: str, adopt: Adopt) -> dict[str, Any]:
    """The policy as applied: owned by the proposal and labelled with it (hashed to fit, like every label)."""
    owned = copy.deepcopy(policy)
    adopt(owned)
    owned["metadata"].setdefault("labels", {})[c.PROPOSAL_LABEL] = label_value(proposal)
    return owned


def _live(obj: dict[str, Any]) -> dict[str, Any] | None:
    group, version, plural = plural_of(obj)
    return get_cluster_object(group, version, plural, obj["metadata"]["name"])


def _ref(live: dict[str, Any]) -> dict[str, str]:
    return {"apiVersion": live["apiVersion"], "kind": live["kind"], "name": live["metadata"]["name"],
            "specDigest": spec_digest(live)}


def _write(owned: dict[str, Any], pattern: str, proposals: dict[str, str], result: Applied) -> dict[str, str]:
    """Server-side apply without force; a field conflict on the pattern's own object is a hand edit: forced back."""
    label = f"{owned['kind']} {owned['metadata']['name']}"
    live = _live(owned)
    if live is not None and (why := foreign(live, pattern, proposals)):
        raise ApplyConflict(f"{label} already exists and is not managed by patternpolicy for this pattern ({why}); "
                            "it was left untouched: delete or rename it, or change the pattern")
    try:
        apply_cluster_object(owned, force=False)
    except KubeConflict as exc:
        live = _live(owned)
        if live is None or (why := foreign(live, pattern, proposals)):
            raise ApplyConflict(f"{label}: {exc}") from exc
        apply_cluster_object(owned, force=True)
        result.forced.append(f"{label} ({exc})")
    stored = _live(owned)
    if stored is None:
        raise KubeError(f"{label} vanished right after it was applied")
    return _ref(stored)


def _proposal_uids(pattern: str) -> dict[str, str]:
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in list_proposals(pattern)}


def apply_proposal(proposal: dict[str, Any], adopt: Adopt, supersede: Supersede,
                   kinds: Sequence[KindRef] = ()) -> Applied:
    meta, spec = proposal["metadata"], proposal.get("spec") or {}
    pattern = str((spec.get("patternRef") or {}).get("name", ""))
    proposals = {**_proposal_uids(pattern), meta["name"]: meta["uid"]}
    result = Applied(policies=[])
    missing = unserved(list(spec.get("policies") or []), kinds)
    if missing:
        raise KindNotServed(f"the policies govern {', '.join(missing)}, which the cluster no longer serves (its "
                            "CRD removed since the analysis?); nothing was applied: install it again, or change the "
                            "pattern")
    owned = [desired(policy, meta["name"], adopt) for policy in spec.get("policies") or []]
    for obj in owned:  # every object is checked before any is written
        live = _live(obj)
        if live is not None and (why := foreign(live, pattern, proposals)):
            raise ApplyConflict(f"{obj['kind']} {obj['metadata']['name']} already exists and is not managed by "
                                f"patternpolicy for this pattern ({why}); it was left untouched")
    for obj in owned:
        result.policies.append(_write(obj, pattern, proposals, result))
    retire_previous(pattern, meta["name"], result, proposals, supersede)
    return result


def retire_previous(pattern: str, current: str, result: Applied, proposals: dict[str, str],
                    supersede: Supersede) -> None:
    """Older Applied proposals become Superseded; their policies that the new one dropped are deleted."""
    kept = {(p["kind"], p["name"]) for p in result.policies}
    for old in list_proposals(pattern):
        name = old["metadata"]["name"]
        status = old.get("status") or {}
        if name == current or status.get("phase") not in ("Applied", "Approved", "Failed"):
            continue
        for policy in status.get("appliedPolicies") or []:
            if (policy["kind"], policy["name"]) in kept:
                continue
            live = _live(policy | {"metadata": {"name": policy["name"]}})
            if live is not None and not foreign(live, pattern, proposals) and delete_cluster_object(
                    policy["apiVersion"], policy["kind"], policy["name"], uid=live["metadata"]["uid"]):
                result.removed.append(policy["name"])
        generation = int((old.get("metadata") or {}).get("generation") or 1)
        try:
            patch_status(c.PROPOSAL_PLURAL, name, {
                "supersededBy": current, "appliedPolicies": [],
                **supersede(list(status.get("conditions") or []), current, generation)})
        except KubeError:
            continue  # it may have been deleted meanwhile
        result.superseded.append(name)


@dataclass
class Drift:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing)

    def describe(self) -> str:
        parts = [f"changed: {', '.join(self.changed)}"] if self.changed else []
        parts += [f"deleted: {', '.join(self.missing)}"] if self.missing else []
        return "; ".join(parts)


def drift_of(applied: list[dict[str, Any]]) -> Drift:
    """Applied policies that were deleted, or whose spec is no longer what the operator applied."""
    drift = Drift()
    for policy in applied:
        live = _live(policy | {"metadata": {"name": policy["name"]}})
        if live is None:
            drift.missing.append(policy["name"])
        elif policy.get("specDigest") and spec_digest(live) != policy["specDigest"]:
            drift.changed.append(policy["name"])
    return drift


def restore(proposal: dict[str, Any], adopt: Adopt) -> list[dict[str, str]]:
    """Puts the approved content back: missing objects re-applied, changed ones replaced whole (PUT),
    so fields added by hand go too. Only the pattern's own objects are written (ApplyConflict otherwise)."""
    meta, spec = proposal["metadata"], proposal.get("spec") or {}
    pattern = str((spec.get("patternRef") or {}).get("name", ""))
    proposals = {**_proposal_uids(pattern), meta["name"]: meta["uid"]}
    refs = []
    for policy in spec.get("policies") or []:
        owned = desired(policy, meta["name"], adopt)
        live = _live(owned)
        if live is None:
            refs.append(_write(owned, pattern, proposals, Applied(policies=[])))
            continue
        if why := foreign(live, pattern, proposals):
            raise ApplyConflict(f"{owned['kind']} {owned['metadata']['name']} is no longer managed by this "
                                f"pattern ({why}); it was left untouched")
        owned["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        replace_cluster_object(owned)
        stored = _live(owned)
        if stored is None:
            raise KubeError(f"{owned['kind']} {owned['metadata']['name']} vanished while it was restored")
        refs.append(_ref(stored))
    return refs
