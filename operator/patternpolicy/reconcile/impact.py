"""When a proposal's impact figure must be computed again (pure: decided from its status alone).

The figure ages: objects are created and changed after validation. Each record says what it was
computed for (content digest, engine in use, failure action, applied or not) and when (`checkedAt`); it is computed
again when it is older than the interval, at once when any of those no longer holds, and never for a
proposal that is invalid, superseded, or whose content is not yet validated (the spec handler's work).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

INTERVAL_ENV = "PATTERNPOLICY_IMPACT_INTERVAL"
DEFAULT_INTERVAL = 300.0


@dataclass(frozen=True)
class Basis:
    """What an impact figure is about: the validated content, the engine in use, the failure action, and
    whether the policies are in force (their violators are then named as such)."""

    digest: str
    engine: str  # "" when no engine is served
    failure_action: str
    in_force: bool = False


def interval() -> float:
    """Seconds between recomputations (PATTERNPOLICY_IMPACT_INTERVAL, read each time: tests shorten it)."""
    try:
        return max(1.0, float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def _parsed(stamp: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def same_basis(recorded: dict[str, Any], basis: Basis) -> bool:
    """Whether a recorded figure was computed for this content, engine, failure action and in-force state:
    only then may its verdicts be reused for objects that did not change."""
    return (recorded.get("digest") == basis.digest and (recorded.get("engine") or "") == basis.engine
            and recorded.get("failureAction") == basis.failure_action
            and bool(recorded.get("inForce")) == basis.in_force)


def impact_due(status: dict[str, Any], basis: Basis, now: datetime, every: float) -> str | None:
    """Why the impact must be computed again now, or None when the recorded figure still holds."""
    if status.get("phase") in ("Invalid", "Superseded") or status.get("validationPassed") is not True:
        return None
    if status.get("digest") != basis.digest:
        return None  # content not validated yet: validation computes the impact with it
    recorded = (status.get("validation") or {}).get("impact") or {}
    if not recorded:
        return "no impact recorded"
    if recorded.get("digest") != basis.digest:
        return "recorded for other content" if recorded.get("digest") else "not recorded what it was computed for"
    if (recorded.get("engine") or "") != basis.engine:
        return f"the engine in use changed ({recorded.get('engine') or 'none'} -> {basis.engine or 'none'})"
    if recorded.get("failureAction") != basis.failure_action:
        return f"the failure action changed ({recorded.get('failureAction')} -> {basis.failure_action})"
    if bool(recorded.get("inForce")) != basis.in_force:
        return "the policies were applied" if basis.in_force else "the policies are no longer in force"
    checked = _parsed(recorded.get("checkedAt"))
    if checked is None:
        return "no time recorded"
    age = (now - checked).total_seconds()
    if age >= every or age < -every:  # a clock that went back far is not trusted either
        return f"computed {int(age)} s ago (every {int(every)} s)"
    return None
