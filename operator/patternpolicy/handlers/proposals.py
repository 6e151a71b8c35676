"""PolicyProposal handlers: validate content, apply only what a person approved."""

from __future__ import annotations

import contextlib
from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy.adapters.kube import KubeError, KubeTransientError, apply_cluster_object, list_crds, patch_status
from patternpolicy.models.conditions import set_condition
from patternpolicy.reconcile.diff import MAX_STATUS_DIFF, policy_diff, summarize
from patternpolicy.reconcile.proposals import decide
from patternpolicy.services import validation
from patternpolicy.services.apply import applied_policies_of, apply_proposal
from patternpolicy.services.impact import impact
from patternpolicy.validate.kyverno_suite import has_custom_kinds


def _dry_run(policy: dict[str, Any]) -> None:
    apply_cluster_object(policy, dry_run=True)


def _crds_for(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The cluster's CRDs when samples are of custom kinds: the Kyverno CLI needs them to map those kinds."""
    return list_crds() if has_custom_kinds(spec.get("tests") or []) else []


def _validate(name: str, spec: dict[str, Any], status: dict[str, Any], digest: str, generation: int,
              voided: bool) -> dict[str, Any]:
    results, valid = validation.validate(name, spec, _dry_run, impact=impact, crds=_crds_for(spec))
    pattern = (spec.get("patternRef") or {}).get("name", "")
    applied, applied_by = applied_policies_of(pattern, exclude=name) if pattern else ([], [])
    diff = policy_diff(applied, spec.get("policies") or [], applied_label=",".join(applied_by) or "applied",
                       proposed_label=name)
    conditions = list(status.get("conditions") or [])
    failed = [k for k, r in results.items() if r["result"] == "Failed"]
    would_deny = results.get("impact", {}).get("wouldDeny", 0)
    if valid:
        conditions = set_condition(conditions, "Validated", "True", "ValidationPassed",
                                   "; ".join(f"{k}: {r['result']}" for k, r in results.items()), generation)
    else:
        conditions = set_condition(conditions, "Validated", "False", "ValidationFailed",
                                   "; ".join(f"{k}: {results[k]['detail']}" for k in failed), generation)
    if voided:
        conditions = set_condition(conditions, "Approved", "False", "ApprovalVoided",
                                   "the policies or tests changed after approval; set approved to false, "
                                   "review, and approve again", generation)
    return {"phase": "Pending" if valid else "Invalid", "digest": digest, "validation": results,
            "policyCount": len(spec.get("policies") or []), "approvalVoided": voided,
            "observedGeneration": generation, "conditions": conditions,
            "diff": diff[:MAX_STATUS_DIFF], "diffSummary": summarize(diff), "replaces": applied_by,
            "wouldDeny": would_deny}


def _record_on_pattern(spec: dict[str, Any], proposal: str, applied: list[dict[str, Any]]) -> None:
    pattern = (spec.get("patternRef") or {}).get("name")
    if not pattern:
        return
    # The pattern may be going away; the proposal's own status is authoritative.
    with contextlib.suppress(KubeError):
        patch_status(c.PATTERN_PLURAL, pattern, {
            "appliedPolicies": [{**a, "proposal": proposal} for a in applied],
            "summary": f"Applied ({proposal})",
        })


@kopf.on.resume(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL)
@kopf.on.create(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL)
@kopf.on.update(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, field="spec")
def reconcile_proposal(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
                       patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    name, generation = meta["name"], int(meta.get("generation") or 1)
    spec_, status_ = dict(spec), dict(status)
    decision = decide(spec_, status_)
    logger.debug("proposal %s: %s", name, decision.action)
    if decision.action in ("validate", "void"):
        try:
            validated = _validate(name, spec_, status_, decision.digest, generation, voided=decision.action == "void")
        except KubeTransientError as exc:
            raise kopf.TemporaryError(f"validation interrupted, retrying: {exc}", delay=10) from exc
        status_ = {**status_, **validated}
        patch.status.update(status_)
        decision = decide(spec_, status_)
        if status_["phase"] == "Invalid":
            kopf.warn(body, reason="ValidationFailed", message=status_["conditions"][-1]["message"][:1000])
        else:
            kopf.info(body, reason="ProposalValidated", message=f"validated ({status_.get('diffSummary', '')}); "
                                                                "awaits approval")
    if decision.action == "reset-void":
        patch.status["approvalVoided"] = False
    elif decision.action == "apply":
        digest = decision.digest.removeprefix("sha256:")[:12]
        kopf.info(body, reason="ProposalApproved", message=f"approved for digest {digest}; applying")
        try:
            applied = apply_proposal(dict(body), adopt=lambda obj: kopf.adopt(obj, owner=body))
        except KubeError as exc:
            patch.status["conditions"] = set_condition(
                list(status_.get("conditions") or []), "Applied", "False", "ApplyFailed", str(exc), generation)
            raise kopf.TemporaryError(f"apply failed: {exc}", delay=30) from exc
        conditions = set_condition(list(status_.get("conditions") or []), "Approved", "True", "ApprovedByUser",
                                   "approved for the validated digest", generation)
        conditions = set_condition(conditions, "Applied", "True", "PolicyApplied",
                                   f"{len(applied.policies)} policy object(s) applied", generation)
        patch.status.update({"phase": "Applied", "appliedPolicies": applied.policies, "conditions": conditions,
                             "observedGeneration": generation})
        replaced = f"; superseded {', '.join(applied.superseded)}" if applied.superseded else ""
        kopf.info(body, reason="PolicyApplied", message=f"applied {len(applied.policies)} policy object(s){replaced}")
        if applied.removed:
            kopf.info(body, reason="PolicyRemoved", message=f"removed {', '.join(applied.removed)} (dropped by "
                                                            "this proposal)"[:1000])
        _record_on_pattern(spec_, name, applied.policies)
