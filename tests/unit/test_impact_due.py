"""When a proposal's impact is computed again, and what the recomputation writes (nothing but impact)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from patternpolicy.reconcile.impact import Basis, impact_due, interval
from patternpolicy.reconcile.proposal_status import impact_status

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
BASIS = Basis("sha256:abc", "ValidatingPolicy", "Enforce")
EVALUATED = {"result": "Passed", "detail": "none of 3 existing object(s) would be denied", "wouldDeny": 0,
             "wouldReport": 0, "checked": 3}


def status(age: float = 10, **changes: Any) -> dict[str, Any]:
    """A validated proposal whose impact was computed `age` seconds ago for BASIS."""
    stamp = (NOW - timedelta(seconds=age)).isoformat().replace("+00:00", "Z")
    written = impact_status(EVALUATED, BASIS, stamp)
    impact = {**written["validation"]["impact"], **changes}
    return {"phase": "Pending", "digest": BASIS.digest, "validationPassed": True, "validation": {"impact": impact},
            "wouldDeny": written["wouldDeny"]}


def test_a_fresh_figure_for_the_same_content_engine_and_action_stands() -> None:
    assert impact_due(status(age=10), BASIS, NOW, 300) is None


def test_an_aged_figure_is_computed_again() -> None:
    assert impact_due(status(age=301), BASIS, NOW, 300) == "computed 301 s ago (every 300 s)"


def test_a_change_of_engine_or_failure_action_is_acted_on_at_once() -> None:
    assert impact_due(status(age=1), Basis(BASIS.digest, "ClusterPolicy", "Enforce"), NOW, 300) == (
        "the engine in use changed (ValidatingPolicy -> ClusterPolicy)")
    assert impact_due(status(age=1), Basis(BASIS.digest, "ValidatingPolicy", "Audit"), NOW, 300) == (
        "the failure action changed (Enforce -> Audit)")
    assert impact_due(status(age=1), Basis(BASIS.digest, "", "Enforce"), NOW, 300) == (
        "the engine in use changed (ValidatingPolicy -> none)")


def test_applying_the_policies_renames_what_the_figure_means_at_once() -> None:
    applied = Basis(BASIS.digest, BASIS.engine, BASIS.failure_action, in_force=True)
    assert impact_due(status(age=1), applied, NOW, 300) == "the policies were applied"


def test_records_from_before_the_basis_was_kept_are_computed_again() -> None:
    """An operator upgrade: figures that said `would deny` for Audit policies are replaced on the first tick."""
    old = {"phase": "Applied", "digest": BASIS.digest, "validationPassed": True,
           "validation": {"impact": {"result": "Passed", "wouldDeny": 5, "checked": 5}}}
    assert impact_due(old, BASIS, NOW, 300) == "not recorded what it was computed for"


@pytest.mark.parametrize("changes", [
    {"phase": "Invalid"}, {"phase": "Superseded"}, {"validationPassed": False}, {"digest": "sha256:new"}])
def test_no_recomputation_for_invalid_superseded_or_unvalidated_content(changes: dict[str, Any]) -> None:
    assert impact_due({**status(age=10_000), **changes}, BASIS, NOW, 300) is None


def test_a_missing_or_unreadable_time_is_due() -> None:
    assert impact_due(status(checkedAt="yesterday"), BASIS, NOW, 300) == "no time recorded"
    assert impact_due({**status(), "validation": {}}, BASIS, NOW, 300) == "no impact recorded"


def test_the_recomputation_writes_only_impact_and_clears_what_no_longer_holds() -> None:
    before = {"result": "Passed", "detail": "1 of 1 existing object(s) would be denied: Pod/a/b", "wouldDeny": 1,
              "checked": 1, "objects": ["Pod/a/b"], "notEvaluated": ["configmaps: may not list"]}
    written = impact_status(EVALUATED, BASIS, "2030-01-01T12:00:00Z", before)
    assert set(written) == {"validation", "wouldDeny", "wouldReport"}  # no phase, no conditions
    impact = written["validation"]["impact"]
    assert (impact["objects"], impact["notEvaluated"]) == (None, None)  # merge patch: null removes
    assert (impact["checkedAt"], impact["engine"], impact["failureAction"]) == (
        "2030-01-01T12:00:00Z", "ValidatingPolicy", "Enforce")


def test_audit_counts_go_to_would_report_and_nothing_evaluated_leaves_the_columns_blank() -> None:
    audit = {**EVALUATED, "wouldDeny": 0, "wouldReport": 4}
    assert {k: impact_status(audit, BASIS, "t")[k] for k in ("wouldDeny", "wouldReport")} == {
        "wouldDeny": 0, "wouldReport": 4}
    skipped = impact_status({"result": "Skipped", "detail": "not evaluated: secret data is not read"}, BASIS, "t")
    assert (skipped["wouldDeny"], skipped["wouldReport"]) == (None, None)


def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATTERNPOLICY_IMPACT_INTERVAL", "7")
    assert interval() == 7.0
    monkeypatch.setenv("PATTERNPOLICY_IMPACT_INTERVAL", "soon")
    assert interval() == 300.0
    monkeypatch.delenv("PATTERNPOLICY_IMPACT_INTERVAL")
    assert interval() == 300.0
