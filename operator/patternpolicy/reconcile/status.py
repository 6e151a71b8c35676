"""Status documents for Patterns and proposals (pure)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from patternpolicy.compile.naming import proposal_name
from patternpolicy.models.conditions import Health, find_condition, now_rfc3339, set_condition, with_health
from patternpolicy.models.pattern import PatternRef
from patternpolicy.reconcile.proposal_status import proposal_health
from patternpolicy.services.pipeline import Generated


def analysis_status(generated: Generated) -> dict[str, Any]:
    analysis = generated.analysis
    return {
        "enforceable": "True" if generated.enforceable else "False",
        "ruleCount": len(generated.policies),
        "analyzer": analysis.analyzer,
        "analyzedAt": now_rfc3339(),
        "generation": generated.pattern.ref.generation,
        "reason": generated.reason,
        "detectedRules": [
            {"id": r.id, "description": r.description, "kinds": [str(k) for k in r.targets]}
            for r in analysis.rules
        ],
        "droppedRules": [{"rule": d.rule, "reasons": d.reasons} for d in generated.dropped],
        **({"kindsFound": analysis.kinds_found} if analysis.kinds_found else {}),
        **({"notes": analysis.notes} if analysis.notes else {}),
        **({"inputTokens": analysis.input_tokens, "attempts": analysis.attempts} if analysis.attempts else {}),
    }


def pattern_status_after_analysis(current: dict[str, Any], generated: Generated,
                                  proposal: str | None) -> dict[str, Any]:
    generation = generated.pattern.ref.generation
    conditions = list(current.get("conditions") or [])
    if generated.enforceable:
        conditions = set_condition(conditions, "Analyzed", "True", "RulesDetected",
                                   f"{len(generated.policies)} rule(s) by the {generated.analysis.analyzer} analyser",
                                   generation)
        conditions = set_condition(conditions, "ProposalReady", "True", "ProposalCreated",
                                   f"PolicyProposal {proposal} awaits approval", generation)
        summary = f"Proposed ({proposal})"
    else:
        conditions = set_condition(conditions, "Analyzed", "False", "NotEnforceable", generated.reason, generation)
        conditions = set_condition(conditions, "ProposalReady", "False", "NotEnforceable",
                                   "no proposal: the pattern was not turned into rules", generation)
        summary = "NotEnforceable"
    proposals = list(current.get("proposals") or [])
    if proposal and proposal not in proposals:
        proposals.append(proposal)
    conditions = with_health(conditions, pattern_health(conditions, generated.pattern.ref.name, None), generation)
    return {"observedGeneration": generation, "analysis": analysis_status(generated), "summary": summary,
            "conditions": conditions, "proposals": proposals}


def pattern_status_invalid(current: dict[str, Any], generation: int, message: str) -> dict[str, Any]:
    conditions = set_condition(list(current.get("conditions") or []), "Analyzed", "False", "InvalidSpec",
                               message, generation)
    conditions = set_condition(conditions, "ProposalReady", "False", "InvalidSpec",
                               "no proposal: the spec is invalid", generation)
    conditions = with_health(conditions, pattern_health(conditions, None, None), generation)
    return {"observedGeneration": generation, "summary": "InvalidSpec", "conditions": conditions,
            "analysis": {"enforceable": "False", "ruleCount": 0, "reason": message, "generation": generation}}


def pattern_status_waiting(current: dict[str, Any], generation: int, message: str) -> dict[str, Any]:
    """The analyser could not be reached; the operator retries, nothing is lost."""
    conditions = set_condition(list(current.get("conditions") or []), "Analyzed", "Unknown", "ModelUnavailable",
                               f"{message}; retrying in 60s", generation)
    conditions = with_health(conditions, pattern_health(conditions, None, None), generation)
    return {"observedGeneration": generation, "summary": "WaitingForModel", "conditions": conditions}


def pattern_status_no_engine(current: dict[str, Any], generation: int, message: str) -> dict[str, Any]:
    conditions = set_condition(list(current.get("conditions") or []), "Analyzed", "Unknown", "EngineUnavailable",
                               f"{message}; checking again in 60s", generation)
    conditions = with_health(conditions, pattern_health(conditions, None, None), generation)
    return {"observedGeneration": generation, "summary": "NoPolicyEngine", "conditions": conditions}


def pattern_status_name_taken(current: dict[str, Any], generation: int, message: str) -> dict[str, Any]:
    """A proposal the operator did not make holds the name of this generation's: nothing is analysed or proposed."""
    conditions = set_condition(list(current.get("conditions") or []), "Analyzed", "Unknown", "NameTaken",
                               f"not analysed: {message}", generation)
    conditions = set_condition(conditions, "ProposalReady", "False", "NameTaken", message, generation)
    conditions = with_health(conditions, pattern_health(conditions, None, None), generation)
    return {"observedGeneration": generation, "summary": "NameTaken", "conditions": conditions}


def pattern_status_analysing(current: dict[str, Any], generation: int) -> dict[str, Any]:
    """Written as analysis starts (it may take a model call): GitOps tools see the new generation in progress
    instead of a status that says nothing (kstatus reads a Pattern without conditions as Current)."""
    conditions = list(current.get("conditions") or [])
    conditions = with_health(conditions, pattern_health(conditions, None, None, generation), generation)
    return {"observedGeneration": generation, "conditions": conditions}


def pattern_health(conditions: list[dict[str, Any]], name: str | None,
                   proposals: dict[str, dict[str, Any]] | None, generation: int | None = None) -> Health:
    """The Pattern's Ready, Reconciling or Stalled: from its analysis, then from the proposal for the analysed
    generation (`proposals`: name -> proposal as stored; None: not looked at yet; `generation`: the one the
    operator observed, which is analysed when it is newer than the Analyzed condition's).

    Waiting for approval is Ready=False, reason AwaitingApproval (kstatus: InProgress; Argo CD: Suspended).
    A pattern the analyser declined has nothing to enforce: Ready=True, reason NothingToEnforce."""
    analyzed = find_condition(conditions, "Analyzed")
    reason, message = str(analyzed.get("reason") or "Analysing"), str(analyzed.get("message") or "")
    if generation is not None and int(analyzed.get("observedGeneration") or 0) < generation:
        return Health(False, "Analysing", f"analysing generation {generation}", "Reconciling")
    if analyzed.get("status") == "Unknown":
        return Health(False, reason, message, "Reconciling")
    if analyzed.get("status") == "False" and reason == "InvalidSpec":
        return Health(False, "InvalidSpec", message, "Stalled")
    if analyzed.get("status") == "False":
        return Health(True, "NothingToEnforce", f"nothing to enforce: {message}")
    if analyzed.get("status") != "True":
        return Health(False, "Analysing", "waiting for the operator to analyse the pattern", "Reconciling")
    expected = proposal_name(PatternRef(name=name, generation=int(analyzed.get("observedGeneration") or 1))) \
        if name else "for this generation"
    found = (proposals or {}).get(expected)
    if found is None:
        return Health(False, "Proposing", f"waiting for PolicyProposal {expected}", "Reconciling")
    status = found.get("status") or {}
    health = proposal_health(status.get("phase"), list(status.get("conditions") or []))
    in_force = [n for n, p in (proposals or {}).items()
                if n != expected and (p.get("status") or {}).get("phase") == "Applied"]
    kept = f"; {', '.join(in_force)} stays in force" if in_force and not health.ready else ""
    return replace(health, message=f"PolicyProposal {expected}: {health.message}{kept}")


_FROM_PROPOSALS = ("Proposed", "Applied", "Drifted", "Approved", "Failed", "Invalid", "Superseded", "NoProposal",
                   "Pending")


def pattern_status_from_proposals(current: dict[str, Any], proposals: list[dict[str, Any]],
                                  name: str | None = None) -> dict[str, Any]:
    """The pattern's proposal references, summary and health, derived from the proposals that exist now.

    Summaries that are about analysis (NotEnforceable, InvalidSpec, WaitingForModel...) are kept. `name`:
    the pattern's, to find the proposal of the analysed generation; health is left to the pattern handler
    until it has written conditions.
    """
    names = [p["metadata"]["name"] for p in proposals]
    phases = {p["metadata"]["name"]: (p.get("status") or {}).get("phase") or "Pending" for p in proposals}
    applied = [p for p in proposals if phases[p["metadata"]["name"]] == "Applied"]
    drifted = [p["metadata"]["name"] for p in applied if any(
        c.get("type") == "Drifted" and c.get("status") == "True"
        for c in (p.get("status") or {}).get("conditions") or [])]
    newest = names[-1] if names else None
    summary = str(current.get("summary") or "")
    if drifted:
        summary = f"Drifted ({', '.join(drifted)})"
    elif applied:
        summary = f"Applied ({', '.join(p['metadata']['name'] for p in applied)})"
        if newest and phases[newest] in ("Pending", "Approved") and newest not in summary:
            summary += f"; {newest} awaits approval"
    elif newest:
        phase = phases[newest]
        summary = f"{'Proposed' if phase == 'Pending' else phase} ({newest})"
    elif summary.split(" ")[0] in _FROM_PROPOSALS:
        summary = "NoProposal"
    derived: dict[str, Any] = {
        "proposals": names,
        "appliedPolicies": [{"apiVersion": a["apiVersion"], "kind": a["kind"], "name": a["name"],
                             "proposal": p["metadata"]["name"]}
                            for p in applied for a in (p.get("status") or {}).get("appliedPolicies") or []],
        "summary": summary,
    }
    conditions = list(current.get("conditions") or [])
    if conditions:
        generation = int(current.get("observedGeneration")
                         or find_condition(conditions, "Analyzed").get("observedGeneration") or 1)
        health = pattern_health(conditions, name, {p["metadata"]["name"]: p for p in proposals}, generation)
        derived["conditions"] = with_health(conditions, health, generation)
    return derived
