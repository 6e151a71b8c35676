"""PolicyProposal handlers: validate content, apply only what the operator generated and a person approved,
keep the approved content in force."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy.adapters.kube import (
    KubeError,
    KubeTransientError,
    apply_cluster_object,
    get_pattern,
    get_proposal,
    list_crds,
)
from patternpolicy.compile.naming import proposal_name
from patternpolicy.handlers import runtime
from patternpolicy.handlers.summary import refresh_pattern_status
from patternpolicy.models.conditions import now_rfc3339
from patternpolicy.models.pattern import PatternRef
from patternpolicy.reconcile.diff import MAX_STATUS_DIFF, policy_diff, summarize
from patternpolicy.reconcile.impact import Basis
from patternpolicy.reconcile.proposal_status import (
    Observed,
    Outcome,
    blocked,
    impact_status,
    proposal_status,
    superseded_status,
)
from patternpolicy.reconcile.proposals import content_digest, decide
from patternpolicy.reconcile.provenance import awaiting_provenance, trust
from patternpolicy.services import validation
from patternpolicy.services.apply import ApplyConflict, applied_policies_of, apply_proposal, drift_of, restore
from patternpolicy.services.enforcement import failure_action
from patternpolicy.services.guard import guard_state
from patternpolicy.services.impact import impact
from patternpolicy.validate.kyverno_suite import has_custom_kinds

DRIFT_INTERVAL = float(os.environ.get("PATTERNPOLICY_DRIFT_INTERVAL", "60"))
# Approved but not applied (guard missing, conflict, API error): tried again, level-triggered.
RETRY_GUARD, RETRY_CONFLICT = min(30.0, DRIFT_INTERVAL), min(60.0, DRIFT_INTERVAL)


def _dry_run(policy: dict[str, Any]) -> None:
    apply_cluster_object(policy, dry_run=True)


def _crds_for(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The cluster's CRDs when samples are of custom kinds: the Kyverno CLI needs them to map those kinds."""
    return list_crds() if has_custom_kinds(spec.get("tests") or []) else []


def _validate(name: str, spec: dict[str, Any], digest: str, generation: int, voided: bool,
              engine: str | None, previous_impact: dict[str, Any] | None) -> dict[str, Any]:
    policies = list(spec.get("policies") or [])
    results, valid = validation.validate(name, spec, _dry_run, crds=_crds_for(spec), engine=engine,
                                         impact=lambda p: impact(p, kinds=runtime.catalog().get().kinds))
    basis = Basis(digest, engine or "", failure_action(policies))
    # Content that is never applied is not evaluated against the cluster either (services/validation.py).
    result = results.pop("impact", None) or validation.check("Skipped", "not run: the proposal is invalid")
    impact_part = impact_status(result, basis, now_rfc3339(), previous_impact)
    pattern = (spec.get("patternRef") or {}).get("name", "")
    applied, applied_by = applied_policies_of(pattern, exclude=name) if pattern else ([], [])
    diff = policy_diff(applied, policies, applied_label=",".join(applied_by) or "applied", proposed_label=name)
    # Status patches merge: a stage this run did not reach (content refused) must not keep an earlier verdict.
    stale = {stage: None for stage in validation.STAGES if stage not in results}
    return {**impact_part, "digest": digest, "validation": {**stale, **results, **impact_part["validation"]},
            "validationPassed": valid, "policyCount": len(policies), "approvalVoided": voided,
            "observedGeneration": generation, "diff": diff[:MAX_STATUS_DIFF], "diffSummary": summarize(diff),
            "replaces": applied_by}


def _observe(meta: dict[str, Any], spec: dict[str, Any], status: dict[str, Any], pattern: dict[str, Any] | None,
             engine: str | None) -> Observed:
    """Everything the status module needs, read from the proposal, its live Pattern and the engine in use."""
    results = status.get("validation") or {}
    failed = [f"{k}: {r.get('detail')}" for k, r in results.items() if r.get("result") == "Failed"]
    content = validation.content_problems(list(spec.get("policies") or []), engine)
    if content and not failed:
        failed = [f"content: {'; '.join(content)}"]  # the engine in use changed since validation
    valid = not failed and status.get("validationPassed", status.get("phase") != "Invalid") is not False
    behaviour = results.get("behaviour") or {}
    verdict = trust(meta, spec, status, pattern)
    ref = spec.get("patternRef") or {}
    current = int(((pattern or {}).get("metadata") or {}).get("generation") or 0) or None
    newer = None
    if current is not None and current != ref.get("generation"):
        newer = proposal_name(PatternRef(name=str(ref.get("name")), generation=current))
    return Observed(
        approved=bool(spec.get("approved")), valid=valid,
        validation_message="; ".join(failed) if failed else "; ".join(
            f"{k}: {r.get('result')}" for k, r in results.items()),
        trusted=verdict.trusted, trust_reason=verdict.reason, trust_message=verdict.message,
        proven=behaviour.get("result") == "Passed",
        proof_message=f"behaviour {str(behaviour.get('result', 'not checked')).lower()}: {behaviour.get('detail', '')}"
        if behaviour.get("result") != "Passed" else str(behaviour.get("detail", "")),
        allow_unproven=bool(spec.get("allowUnproven")), voided=bool(status.get("approvalVoided")),
        newer=newer, current_generation=current,
        superseded_by=status.get("supersededBy") if status.get("phase") == "Superseded" else None,
        in_force=status.get("phase") == "Applied" and bool(status.get("appliedPolicies")))


def _pattern_of(spec: dict[str, Any]) -> dict[str, Any] | None:
    name = (spec.get("patternRef") or {}).get("name")
    return get_pattern(str(name)) if name else None


@kopf.on.resume(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL)
@kopf.on.create(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL)
@kopf.on.update(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, field="spec")
# Its ownerReference is part of what makes a proposal trusted: removed or restored, the status follows at once.
@kopf.on.update(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, field="metadata.ownerReferences")
def reconcile_proposal(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
                       patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    name, generation = meta["name"], int(meta.get("generation") or 1)
    spec_, status_, meta_ = dict(spec), dict(status), dict(meta)
    if not status_.get("provenance"):
        # The pattern handler writes it right after creating the proposal; the event that brought this
        # proposal may be older than that write (under load, by more than the grace period): read it afresh.
        try:
            fresh = (get_proposal(name) or {}).get("status") or {}
        except KubeError:
            fresh = {}
        if fresh.get("provenance"):
            status_["provenance"] = fresh["provenance"]
        elif awaiting_provenance(meta_, status_):
            raise kopf.TemporaryError("waiting for the operator to record this proposal's provenance", delay=1)
    decision = decide(spec_, status_)
    logger.debug("proposal %s: %s", name, decision.action)
    if decision.action == "done" and status_.get("phase") != "Invalid":
        return  # Applied (kept in force by the timer below) or Superseded
    try:
        pattern = _pattern_of(spec_)
        engine = runtime.engine_in_use(pattern)
        if decision.action in ("validate", "void"):
            validated = _validate(name, spec_, decision.digest, generation, decision.action == "void", engine,
                                  (status_.get("validation") or {}).get("impact"))
            stored = {k: v for k, v in validated["validation"].items() if v is not None}  # nulls delete keys
            status_ = {**status_, **validated, "validation": stored}
            patch.status.update(validated)
            decision = decide(spec_, status_)
            if validated["validationPassed"]:
                kopf.info(body, reason="ProposalValidated", message=f"validated ({validated['diffSummary']}); "
                                                                    "awaits approval")
    except KubeTransientError as exc:
        raise kopf.TemporaryError(f"validation interrupted, retrying: {exc}", delay=10) from exc
    except KubeError as exc:
        raise kopf.TemporaryError(f"cluster not ready: {exc}", delay=15) from exc
    if decision.action == "reset-void":
        status_["approvalVoided"] = False
        patch.status["approvalVoided"] = False
    observed = _observe(meta_, spec_, status_, pattern, engine)
    outcome: Outcome | None = None
    message, applied_policies = "", None
    if decision.action == "apply" and blocked(observed) is None:
        digest = decision.digest.removeprefix("sha256:")[:12]
        kopf.info(body, reason="ProposalApproved", message=f"approved for digest {digest}; applying")
        outcome, message, applied_policies = _apply(body)
    elif decision.action == "apply":
        reason, why = blocked(observed) or ("", "")
        kopf.warn(body, reason=f"NotApplied{reason}"[:128], message=why[:1000])
    observed = replace(observed, outcome=outcome, outcome_message=message)
    result = proposal_status(observed, list(status_.get("conditions") or []), generation)
    written = {**result, **({"appliedPolicies": applied_policies} if applied_policies is not None else {})}
    patch.status.update(written)
    _refresh(spec_, name, {**status_, **written})
    if result["phase"] == "Invalid" and not observed.valid:
        kopf.warn(body, reason="ValidationFailed", message=observed.validation_message[:1000])
    elif result["phase"] == "Invalid":
        kopf.warn(body, reason=observed.trust_reason, message=observed.trust_message[:1000])
    if outcome == "GuardMissing":
        raise kopf.TemporaryError(message, delay=RETRY_GUARD)
    if outcome in ("Conflict", "Error"):
        raise kopf.TemporaryError(f"apply failed: {message}", delay=RETRY_CONFLICT)


def _refresh(spec: dict[str, Any], name: str, status: dict[str, Any]) -> None:
    pattern = (spec.get("patternRef") or {}).get("name")
    if pattern:
        refresh_pattern_status(str(pattern), {name: status})


def _apply(body: kopf.Body) -> tuple[Outcome, str, list[dict[str, str]] | None]:
    """Applies when the guard is intact; (outcome, message, applied policy references)."""
    guard = guard_state()
    if not guard.intact:
        kopf.warn(body, reason="ApprovalGuardMissing", message=guard.message[:1000])
        return "GuardMissing", guard.message, None
    try:
        applied = apply_proposal(dict(body), adopt=lambda obj: kopf.adopt(obj, owner=body),
                                 supersede=superseded_status, kinds=runtime.catalog().get().kinds)
    except ApplyConflict as exc:
        kopf.warn(body, reason="Conflict", message=str(exc)[:1000])
        return "Conflict", str(exc), None
    except KubeError as exc:
        kopf.warn(body, reason="ApplyFailed", message=str(exc)[:1000])
        return "Error", str(exc), None
    replaced = f"; superseded {', '.join(applied.superseded)}" if applied.superseded else ""
    forced = f"; took back fields changed by hand: {'; '.join(applied.forced)}" if applied.forced else ""
    message = f"{len(applied.policies)} policy object(s) applied{replaced}{forced}"
    kopf.info(body, reason="PolicyApplied", message=message[:1000])
    if applied.removed:
        kopf.info(body, reason="PolicyRemoved", message=f"removed {', '.join(applied.removed)} (dropped by "
                                                        "this proposal)"[:1000])
    return "Applied", message, applied.policies


def _keeping(status: kopf.Status, **_: Any) -> bool:
    """Proposals whose policies were applied: in force, or drifted and waiting to be restored."""
    return status.get("phase") in ("Applied", "Approved", "Failed") and bool(status.get("appliedPolicies"))


def _keep_in_force(body: kopf.Body, meta: kopf.Meta, spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch) -> None:
    """The live policies are compared with what was applied; any change is restored."""
    spec_, status_, meta_ = dict(spec), dict(status), dict(meta)
    generation = int(meta.get("generation") or 1)
    drifted: dict[str, Any] = next((x for x in status_.get("conditions") or [] if x.get("type") == "Drifted"), {})
    try:
        drift = drift_of(list(status_.get("appliedPolicies") or []))
        if not drift and drifted.get("status") != "True" and status_.get("phase") == "Applied":
            return
        pattern = _pattern_of(spec_)
        observed = _observe(meta_, spec_, status_, pattern, runtime.engine_in_use(pattern))
    except KubeError as exc:
        raise kopf.TemporaryError(f"cannot check applied policies: {exc}", delay=DRIFT_INTERVAL) from exc
    if not observed.trusted or not observed.valid:
        return  # the content changed: the spec handler reports it; nothing is restored from it
    what = drift.describe() or "nothing changed since"
    if drift:
        kopf.warn(body, reason="PolicyDrift", message=f"applied policies changed outside patternpolicy ({what})")
    names = drift.changed + drift.missing
    refs = None
    if not drift:
        observed = replace(observed, outcome="Applied", outcome_message="the approved policies are in force")
    elif not (guard := guard_state()).intact:
        kopf.warn(body, reason="ApprovalGuardMissing", message=guard.message[:1000])
        observed = replace(observed, drifted=names, drift_message=f"{what}; not restored: {guard.message}",
                           in_force=False, outcome="GuardMissing", outcome_message=guard.message)
    else:
        try:
            refs = restore(dict(body), adopt=lambda obj: kopf.adopt(obj, owner=body))
        except KubeError as exc:
            kopf.warn(body, reason="RestoreFailed", message=str(exc)[:1000])
            observed = replace(observed, drifted=names, drift_message=f"{what}; not restored: {exc}", in_force=False,
                               outcome="Conflict" if isinstance(exc, ApplyConflict) else "Error",
                               outcome_message=str(exc))
        else:
            kopf.info(body, reason="PolicyRestored", message=f"approved content restored ({what})"[:1000])
            observed = replace(observed, outcome="Applied", drift_message=f"restored after drift ({what})",
                               outcome_message="the approved policies are in force again")
    result = proposal_status(observed, list(status_.get("conditions") or []), generation)
    written = {**result, **({"appliedPolicies": refs} if refs is not None else {})}
    patch.status.update(written)
    _refresh(spec_, meta["name"], {**status_, **written})


def _contradicted(phase: str | None, approved: bool, status: dict[str, Any]) -> bool:
    """A stored phase that the proposal's own state contradicts (written by something else than this operator's
    handlers): approved phases without an approval, Applied without anything applied."""
    return ((phase in ("Approved", "Failed") and not approved) or (phase == "Applied" and not status.get(
        "appliedPolicies")) or phase not in ("Pending", "Invalid", "Approved", "Applied", "Superseded", "Failed"))


@kopf.timer(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, interval=DRIFT_INTERVAL, initial_delay=DRIFT_INTERVAL,
            when=lambda status, **_: bool(status.get("digest")) and status.get("phase") != "Superseded")
def recheck(body: kopf.Body, meta: kopf.Meta, spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch,
            **_: Any) -> None:
    """Level-triggered, one timer per proposal: applied policies are kept in force; a phase set by hand
    (or by anyone but these handlers) is put back to the observed truth."""
    if _keeping(status):
        _keep_in_force(body, meta, spec, status, patch)
    else:
        _correct_status(body, meta, spec, status, patch)


def _correct_status(body: kopf.Body, meta: kopf.Meta, spec: kopf.Spec, status: kopf.Status,
                    patch: kopf.Patch) -> None:
    spec_, status_, meta_ = dict(spec), dict(status), dict(meta)
    if status_.get("digest") != content_digest(spec_):
        return  # new content: the spec handler validates it
    if not _contradicted(status_.get("phase"), bool(spec_.get("approved")), status_):
        return
    try:
        pattern = _pattern_of(spec_)
        observed = _observe(meta_, spec_, status_, pattern, runtime.engine_in_use(pattern))
    except KubeError as exc:
        raise kopf.TemporaryError(f"cannot read the pattern: {exc}", delay=DRIFT_INTERVAL) from exc
    result = proposal_status(observed, list(status_.get("conditions") or []), int(meta.get("generation") or 1))
    kopf.warn(body, reason="StatusCorrected",
              message=f"phase {status_.get('phase')} did not match the proposal's state; now {result['phase']}")
    patch.status.update(result)
    _refresh(spec_, meta["name"], {**status_, **result})
