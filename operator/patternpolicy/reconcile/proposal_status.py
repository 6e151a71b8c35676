"""A proposal's phase and conditions, decided in one place from what was observed (pure).

Every condition is written each time, True or False, so none outlives the state it describes.
Handlers observe (validation, provenance, the guard, the outcome of applying) and patch what
`proposal_status` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from patternpolicy.models.conditions import Health, Status, find_condition, set_condition, with_health
from patternpolicy.reconcile.impact import Basis

Phase = Literal["Pending", "Invalid", "Approved", "Applied", "Superseded", "Failed"]
# How applying the approved content went, when it was tried.
Outcome = Literal["Applied", "Conflict", "GuardMissing", "Error"]


@dataclass(frozen=True)
class Observed:
    approved: bool
    valid: bool
    validation_message: str
    trusted: bool
    trust_reason: str
    trust_message: str
    proven: bool = True
    proof_message: str = ""
    allow_unproven: bool = False
    voided: bool = False
    newer: str | None = None            # the pattern moved on: the name of the proposal for its current generation
    current_generation: int | None = None
    superseded_by: str | None = None
    outcome: Outcome | None = None      # this run's attempt to apply, if any
    outcome_message: str = ""
    in_force: bool = False              # it was applied before and nothing says it stopped
    drifted: list[str] = field(default_factory=list)
    drift_message: str = ""


def blocked(o: Observed) -> tuple[str, str] | None:
    """Why an approved proposal must not be applied (reason, message); None when it may be."""
    if not o.trusted:
        return o.trust_reason, o.trust_message
    if not o.valid:
        return "ValidationFailed", o.validation_message
    if o.voided:
        return "ApprovalVoided", "the policies or tests changed after approval; set approved to false, review, " \
                                 "and approve again"
    if o.newer is not None and not o.in_force:
        return "OutdatedGeneration", (f"the pattern is at generation {o.current_generation}; this proposal is "
                                      f"for an older one and is not applied: review and approve {o.newer}")
    if not o.proven and not o.allow_unproven:
        return "BehaviourNotProven", (f"{o.proof_message}; not applied: install the Kyverno CLI so the operator "
                                      "can prove the policies, or set spec.allowUnproven to true to apply unproven")
    return None


def _phase(o: Observed, block: tuple[str, str] | None) -> Phase:
    if o.superseded_by:
        return "Superseded"
    if not o.trusted or not o.valid:
        return "Invalid"
    if not o.approved or o.voided:
        return "Applied" if o.in_force and not o.voided else "Pending"
    if o.in_force or o.outcome == "Applied":
        return "Applied"
    if block is not None or o.outcome == "Conflict":
        return "Failed"
    return "Approved"


def proposal_status(o: Observed, conditions: list[dict[str, Any]], generation: int) -> dict[str, Any]:
    """{phase, conditions} for the proposal status."""
    block = blocked(o) if o.approved else None
    phase = _phase(o, block)

    def put(type_: str, status: Status, reason: str, message: str) -> None:
        nonlocal conditions
        conditions = set_condition(conditions, type_, status, reason, message, generation)

    put("Trusted", "True" if o.trusted else "False", o.trust_reason, o.trust_message)
    put("Validated", "True" if o.valid else "False", "ValidationPassed" if o.valid else "ValidationFailed",
        o.validation_message)
    put("Proven", "True" if o.proven else "False", "BehaviourProven" if o.proven else "BehaviourNotProven",
        o.proof_message or ("the engine allowed every compliant and denied every violating sample" if o.proven
                            else "behaviour not proven on the engine"))
    if o.newer is None:
        put("Current", "True", "CurrentGeneration", "generated for the pattern's current generation")
    else:
        put("Current", "False", "OutdatedGeneration",
            f"the pattern is at generation {o.current_generation}; see {o.newer}")
    if o.superseded_by:
        put("Superseded", "True", "ReplacedByNewer", f"replaced by {o.superseded_by}")
    else:
        put("Superseded", "False", "NotSuperseded", "no newer proposal of the pattern was applied")
    if not o.approved:
        put("Approved", "False", "AwaitingApproval", "a person approves with `patternpolicy approve` or by setting "
                                                     "spec.approved to true")
    elif block is not None and not o.in_force:
        put("Approved", "False", block[0], block[1])
    else:
        put("Approved", "True", "ApprovedByUser", "approved for the validated digest")
    put(*_applied(o, phase, block))
    if o.drifted:
        put("Drifted", "True", "ContentChanged", o.drift_message)
    else:
        put("Drifted", "False", "InSync" if phase == "Applied" else "NotApplied",
            o.drift_message or "the applied policies match the approved content")
    conditions = with_health(conditions, proposal_health(phase, conditions), generation)
    return {"phase": phase, "conditions": conditions, "observedGeneration": generation}


def proposal_health(phase: str | None, conditions: list[dict[str, Any]]) -> Health:
    """Ready, Reconciling or Stalled from a proposal's phase and conditions: for the proposal's own status,
    and for its Pattern's (which reads what the proposal stored, also from operators before Ready existed).

    Waiting for a person is Ready=False without Reconciling or Stalled: kstatus reads it as InProgress,
    the Argo CD health check (reason AwaitingApproval) as Suspended."""
    applied, approved = find_condition(conditions, "Applied"), find_condition(conditions, "Approved")
    if phase in ("Applied", "Superseded"):
        default = "the approved policies are in force" if phase == "Applied" else "replaced by a newer proposal"
        return Health(True, "PolicyApplied" if phase == "Applied" else "Superseded",
                      str(applied.get("message") or default))
    if phase == "Pending":
        current = find_condition(conditions, "Current")
        outdated = f" ({current.get('message')})" if current.get("status") == "False" else ""
        return Health(False, "AwaitingApproval", "waiting for a person to approve: `patternpolicy approve` or "
                                                 f"spec.approved: true{outdated}")
    if phase == "Invalid":
        trusted = find_condition(conditions, "Trusted")
        why = trusted if trusted.get("status") == "False" else find_condition(conditions, "Validated")
        return Health(False, str(why.get("reason") or "ValidationFailed"),
                      str(why.get("message") or "the proposal is invalid"), "Stalled")
    if phase == "Failed":
        why = applied if applied.get("status") == "False" else approved
        return Health(False, str(why.get("reason") or "NotApplied"), str(why.get("message") or "not applied"),
                      "Stalled")
    if phase == "Approved":
        return Health(False, str(applied.get("reason") or "Applying"), str(applied.get("message") or
                                                                         "being applied"), "Reconciling")
    return Health(False, "Validating", "the operator is validating the proposed policies", "Reconciling")


def validating_status(conditions: list[dict[str, Any]], generation: int) -> dict[str, Any]:
    """Written with the provenance, right after the operator creates a proposal: InProgress until validated."""
    return {"observedGeneration": generation,
            "conditions": with_health(conditions, proposal_health(None, conditions), generation)}


def _applied(o: Observed, phase: Phase, block: tuple[str, str] | None) -> tuple[str, Status, str, str]:
    if phase == "Superseded":
        return "Applied", "False", "Superseded", f"its policies were replaced by {o.superseded_by}"
    if phase == "Applied":
        return "Applied", "True", "PolicyApplied", o.outcome_message or "the approved policies are in force"
    if o.outcome in ("Conflict", "GuardMissing", "Error"):
        reason = {"Conflict": "Conflict", "GuardMissing": "ApprovalGuardMissing", "Error": "ApplyFailed"}[o.outcome]
        return "Applied", "False", reason, o.outcome_message
    if block is not None:
        return "Applied", "False", block[0], block[1]
    return "Applied", "False", "NotApproved" if not o.approved else "Applying", (
        "nothing is applied before a person approves" if not o.approved else "being applied")


def superseded_status(conditions: list[dict[str, Any]], by: str, generation: int) -> dict[str, Any]:
    """The status of an older proposal once a newer one of the same pattern is applied."""
    conditions = set_condition(conditions, "Superseded", "True", "ReplacedByNewer", f"replaced by {by}", generation)
    conditions = set_condition(conditions, "Applied", "False", "Superseded", f"its policies were replaced by {by}",
                               generation)
    conditions = set_condition(conditions, "Drifted", "False", "NotApplied", "superseded: no longer kept in force",
                               generation)
    conditions = with_health(conditions, proposal_health("Superseded", conditions), generation)
    return {"phase": "Superseded", "conditions": conditions, "observedGeneration": generation}


def impact_status(result: dict[str, Any], basis: Basis, checked_at: str,
                  previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The impact part of a proposal's status, from validation or a later recomputation (phase and
    conditions untouched): the record, with what and when it was computed for, and the printer columns'
    counts, absent when nothing was evaluated (a blank column rather than a 0 that was never counted).
    Keys of the previous record that this one lacks are cleared: status patches merge."""
    record = {**result, "checkedAt": checked_at, "digest": basis.digest, "engine": basis.engine,
              "failureAction": basis.failure_action, "inForce": basis.in_force}
    cleared = {key: None for key in previous or {} if key not in record}
    evaluated = "wouldDeny" in result
    return {"validation": {"impact": {**cleared, **record}},
            "wouldDeny": result["wouldDeny"] if evaluated else None,
            "wouldReport": result.get("wouldReport", 0) if evaluated else None}
