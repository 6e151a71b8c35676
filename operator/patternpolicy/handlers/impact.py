"""Keeps each proposal's impact figure current: computed again when it ages or what it was computed for
changes (reconcile/impact.py decides), without validating again and without touching phase or conditions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy.adapters.kube import KubeError, get_pattern, get_proposal
from patternpolicy.handlers import runtime
from patternpolicy.handlers.proposals import DRIFT_INTERVAL
from patternpolicy.models.conditions import now_rfc3339
from patternpolicy.reconcile.impact import Basis, impact_due, interval, same_basis
from patternpolicy.reconcile.proposal_status import impact_status
from patternpolicy.reconcile.proposals import content_digest
from patternpolicy.services.enforcement import failure_action
from patternpolicy.services.impact import impact

# How often each proposal's figure is looked at: a change of engine is seen within a tick, an aged figure
# within a tick of its interval. Bounded by the drift check's, which tests shorten.
TICK = min(DRIFT_INTERVAL, 60.0, interval())


def _counted(status: dict[str, Any]) -> str:
    if status.get("wouldDeny") is None:
        return "not evaluated"
    return f"would deny {status.get('wouldDeny')}, would report {status.get('wouldReport') or 0}"


@kopf.timer(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, interval=TICK, initial_delay=TICK,
            when=lambda status, **_: status.get("validationPassed") is True
            and status.get("phase") not in ("Invalid", "Superseded"))
def refresh_impact(body: kopf.Body, meta: kopf.Meta, spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch,
                   logger: kopf.Logger, **_: Any) -> None:
    spec_, status_ = dict(spec), dict(status)
    digest = content_digest(spec_)
    if status_.get("digest") != digest:
        return  # new content: the spec handler validates it, impact included
    policies = list(spec_.get("policies") or [])
    pattern_name = (spec_.get("patternRef") or {}).get("name")
    try:
        engine = runtime.engine_in_use(get_pattern(str(pattern_name)) if pattern_name else None)
        kinds = runtime.catalog().get().kinds
    except KubeError as exc:
        raise kopf.TemporaryError(f"cannot read the pattern or the served kinds for the impact check: {exc}",
                                  delay=TICK) from exc
    applied = status_.get("phase") == "Applied" and bool(status_.get("appliedPolicies"))
    basis = Basis(digest, engine or "", failure_action(policies), in_force=applied)
    why = impact_due(status_, basis, datetime.now(UTC), interval())
    if why is None:
        return
    logger.info("impact of %s computed again: %s", meta["name"], why)
    recorded = (status_.get("validation") or {}).get("impact")
    # Aged only: listing the objects again tells whether the engine has anything new to judge.
    reusable = recorded if recorded and same_basis(recorded, basis) else None
    result = impact(policies, kinds=kinds, in_force=applied, previous=reusable)
    written = impact_status(result, basis, now_rfc3339(), recorded)
    try:  # the engine took a while: content validated meanwhile carries its own, fresher figure
        now_stored = get_proposal(meta["name"]) or {}
    except KubeError as exc:
        raise kopf.TemporaryError(f"cannot re-read the proposal before writing its impact: {exc}", delay=TICK) from exc
    if (now_stored.get("status") or {}).get("digest") != digest:
        return
    patch.status.update(written)
    before, after = _counted(status_), _counted(written)
    if before != after:
        kopf.info(body, reason="ImpactChanged", message=f"{before} -> {after}: {result['detail']}"[:1000])
