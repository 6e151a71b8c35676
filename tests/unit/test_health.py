"""Ready, Reconciling and Stalled (kstatus conventions) and the Argo CD health check, on the statuses the
operator's own status functions write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lupa.lua51 as lua51  # Argo CD runs health checks on gopher-lua, a Lua 5.1
import pytest
import yaml

from patternpolicy.models.conditions import Health, set_condition, with_health
from patternpolicy.reconcile.proposal_status import Observed, proposal_status, superseded_status, validating_status
from patternpolicy.reconcile.status import (
    pattern_status_analysing,
    pattern_status_from_proposals,
    pattern_status_invalid,
    pattern_status_no_engine,
    pattern_status_waiting,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (ROOT / "deploy" / "argocd" / "health.lua").read_text()


def observed(**changes: Any) -> Observed:
    base = {"approved": True, "valid": True, "validation_message": "ok", "trusted": True,
            "trust_reason": "GeneratedByOperator", "trust_message": "ok"}
    return Observed(**{**base, **changes})


def health(status: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(Ready's status and reason, the abnormal-true condition present): what kstatus reads."""
    found = {c["type"]: c for c in status["conditions"]}
    assert all(found[t]["status"] == "True" for t in ("Reconciling", "Stalled") if t in found), found
    progress = [t for t in ("Reconciling", "Stalled") if t in found]
    assert len(progress) <= 1
    return found["Ready"]["status"], found["Ready"]["reason"], progress[0] if progress else None


def argocd(kind: str, status: dict[str, Any] | None, generation: int = 1) -> tuple[str, str]:
    lua = lua51.LuaRuntime()
    obj = {"apiVersion": "patternpolicy.io/v1alpha1", "kind": kind,
           "metadata": {"name": "p", "generation": generation}, **({"status": status} if status else {})}
    lua.globals().obj = lua.table_from(obj, recursive=True)
    hs = lua.execute(SCRIPT)
    return str(hs["status"]), str(hs["message"])


PENDING = proposal_status(observed(approved=False), [], 1)
APPLIED = {**proposal_status(observed(outcome="Applied"), PENDING["conditions"], 2), "appliedPolicies": [
    {"apiVersion": "v", "kind": "K", "name": "p-r", "specDigest": "sha256:x"}]}
PROPOSALS: dict[str, tuple[dict[str, Any], tuple[str, str | None, str | None], str]] = {
    "validating": (validating_status([], 1), ("False", "Validating", "Reconciling"), "Progressing"),
    "pending": (PENDING, ("False", "AwaitingApproval", None), "Suspended"),
    "unproven": (proposal_status(observed(approved=False, proven=False), [], 1),
                 ("False", "AwaitingApproval", None), "Suspended"),
    "applying": (proposal_status(observed(), [], 1), ("False", "Applying", "Reconciling"), "Progressing"),
    "guard missing": (proposal_status(observed(outcome="GuardMissing", outcome_message="guard gone"), [], 1),
                      ("False", "ApprovalGuardMissing", "Reconciling"), "Progressing"),
    "applied": (APPLIED, ("True", "PolicyApplied", None), "Healthy"),
    "conflict": (proposal_status(observed(outcome="Conflict", outcome_message="VAP x"), [], 1),
                 ("False", "Conflict", "Stalled"), "Degraded"),
    "unproven approved": (proposal_status(observed(proven=False, proof_message="skipped"), [], 1),
                          ("False", "BehaviourNotProven", "Stalled"), "Degraded"),
    "invalid": (proposal_status(observed(approved=False, valid=False, validation_message="schema: bad"), [], 1),
                ("False", "ValidationFailed", "Stalled"), "Degraded"),
    "untrusted": (proposal_status(observed(trusted=False, trust_reason="ContentChanged", trust_message="edited"),
                                  [], 1), ("False", "ContentChanged", "Stalled"), "Degraded"),
    "superseded": (superseded_status(APPLIED["conditions"], "p-g3", 2), ("True", "Superseded", None), "Healthy"),
}


@pytest.mark.parametrize("case", PROPOSALS)
def test_proposal_ready_and_argocd_health(case: str) -> None:
    status, expected, argo = PROPOSALS[case]
    assert health(status) == expected
    assert status["observedGeneration"] == max(c["observedGeneration"] for c in status["conditions"])
    assert argocd("PolicyProposal", status)[0] == argo


def test_conditions_clear_when_they_stop_being_true() -> None:
    conditions = with_health([], Health(False, "Applying", "x", "Reconciling"), 1)
    conditions = with_health(conditions, Health(False, "Conflict", "y", "Stalled"), 1)
    assert [c["type"] for c in conditions] == ["Ready", "Stalled"]
    done = with_health(conditions, Health(True, "PolicyApplied", "z"), 2)
    assert [(c["type"], c["status"], c["observedGeneration"]) for c in done] == [("Ready", "True", 2)]
    applied = proposal_status(observed(outcome="Applied"), proposal_status(observed(), [], 1)["conditions"], 1)
    assert "Reconciling" not in {c["type"] for c in applied["conditions"]}
    # Set in place: a status rewritten with the same content is the same list (no needless writes).
    again = proposal_status(observed(outcome="Applied"), applied["conditions"], 1)
    assert [c["type"] for c in again["conditions"]] == [c["type"] for c in applied["conditions"]]


def analysed(generation: int = 1) -> dict[str, Any]:
    """What pattern_status_after_analysis writes for an enforceable pattern whose proposal was created."""
    conditions = set_condition([], "Analyzed", "True", "RulesDetected", "1 rule(s)", generation)
    return {"observedGeneration": generation, "conditions": conditions, "summary": f"Proposed (p-g{generation})"}


def proposal(name: str, status: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": status}


def test_pattern_ready_follows_analysis_and_the_current_proposal() -> None:
    def pattern(current: dict[str, Any], *proposals: dict[str, Any]) -> dict[str, Any]:
        return {**current, **pattern_status_from_proposals(current, list(proposals), "p")}

    cases = {
        "analysing": (pattern_status_analysing({}, 1), ("False", "Analysing", "Reconciling"), "Progressing"),
        "model unavailable": (pattern_status_waiting({}, 1, "model unreachable"),
                              ("False", "ModelUnavailable", "Reconciling"), "Progressing"),
        "no engine": (pattern_status_no_engine({}, 1, "no Kyverno"),
                      ("False", "EngineUnavailable", "Reconciling"), "Progressing"),
        "invalid": (pattern_status_invalid({}, 1, "description is empty"), ("False", "InvalidSpec", "Stalled"),
                    "Degraded"),
        "proposing": (pattern(analysed()), ("False", "Proposing", "Reconciling"), "Progressing"),
        "validating": (pattern(analysed(), proposal("p-g1", {"provenance": {}, **validating_status([], 1)})),
                       ("False", "Validating", "Reconciling"), "Progressing"),
        "awaiting approval": (pattern(analysed(), proposal("p-g1", PENDING)), ("False", "AwaitingApproval", None),
                              "Suspended"),
        "applied": (pattern(analysed(), proposal("p-g1", APPLIED)), ("True", "PolicyApplied", None), "Healthy"),
        "new generation awaits": (pattern(analysed(2), proposal("p-g1", APPLIED), proposal("p-g2", PENDING)),
                                  ("False", "AwaitingApproval", None), "Suspended"),
        "refused": (pattern(analysed(), proposal("p-g1", PROPOSALS["conflict"][0])), ("False", "Conflict", "Stalled"),
                    "Degraded"),
    }
    for case, (status, expected, argo) in cases.items():
        assert health(status) == expected, case
        assert argocd("Pattern", status)[0] == argo, case
        assert {c["observedGeneration"] for c in status["conditions"]} == {status["observedGeneration"]}, case
    # A new generation being analysed: in progress, even if a proposal event refreshes the pattern meanwhile.
    applied = cases["applied"][0]
    analysing = {**applied, **pattern_status_analysing(applied, 2)}
    assert health(analysing) == ("False", "Analysing", "Reconciling")
    assert health(pattern(analysing, proposal("p-g1", APPLIED))) == ("False", "Analysing", "Reconciling")
    assert argocd("Pattern", analysing, generation=2)[0] == "Progressing"
    kept = cases["new generation awaits"][0]
    ready = next(c for c in kept["conditions"] if c["type"] == "Ready")
    assert ready["message"].startswith("PolicyProposal p-g2: waiting for a person to approve")
    assert ready["message"].endswith("p-g1 stays in force")
    status, message = argocd("Pattern", kept, generation=2)
    assert status == "Suspended" and "AwaitingApproval" in message and "p-g2" in message


def test_a_declined_pattern_has_nothing_to_enforce() -> None:
    conditions = set_condition([], "Analyzed", "False", "NotEnforceable", "no rule found", 1)
    declined = {"observedGeneration": 1, "conditions": conditions, "summary": "NotEnforceable"}
    status = {**declined, **pattern_status_from_proposals(declined, [], "p")}
    assert health(status) == ("True", "NothingToEnforce", None)
    assert argocd("Pattern", status) == ("Healthy", "NothingToEnforce: nothing to enforce: no rule found")


def test_argocd_before_the_operator_and_on_older_statuses() -> None:
    assert argocd("Pattern", None)[0] == "Progressing"
    stale = {**PENDING, "observedGeneration": 1}
    assert argocd("PolicyProposal", stale, generation=2) == (
        "Progressing", "waiting for the operator to observe generation 2")
    # An operator before Ready existed wrote only the phase.
    assert argocd("PolicyProposal", {"phase": "Applied"})[0] == "Healthy"
    assert argocd("PolicyProposal", {"phase": "Pending"})[0] == "Suspended"
    assert argocd("PolicyProposal", {"phase": "Invalid"})[0] == "Degraded"


def test_the_argocd_cm_snippet_and_docs_carry_the_script() -> None:
    cm = yaml.safe_load((ROOT / "deploy" / "argocd" / "argocd-cm.yaml").read_text())
    for kind in ("Pattern", "PolicyProposal"):
        assert cm["data"][f"resource.customizations.health.patternpolicy.io_{kind}"] == SCRIPT, \
            "deploy/argocd/argocd-cm.yaml must embed deploy/argocd/health.lua unchanged"
    docs = (ROOT / "docs" / "gitops.md").read_text()
    assert (ROOT / "deploy" / "argocd" / "argocd-cm.yaml").read_text() in docs, \
        "docs/gitops.md must show deploy/argocd/argocd-cm.yaml as it is"
