"""Status conditions shaped like metav1.Condition (pure helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["True", "False", "Unknown"]


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def set_condition(
    conditions: list[dict[str, Any]],
    type_: str,
    status: Status,
    reason: str,
    message: str,
    generation: int,
    now: str | None = None,
) -> list[dict[str, Any]]:
    """Returns a new list with `type_` set; lastTransitionTime moves only when status changes."""
    previous = next((c for c in conditions if c.get("type") == type_), None)
    changed = previous is None or previous.get("status") != status
    condition = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message[:32000],
        "observedGeneration": generation,
        "lastTransitionTime": (now or now_rfc3339()) if changed or previous is None
        else previous["lastTransitionTime"],
    }
    if previous is None:
        return [*conditions, condition]
    return [condition if c is previous else c for c in conditions]  # in place: the list order stays stable


@dataclass(frozen=True)
class Health:
    """What GitOps tools read (kstatus: Flux's `wait` and health checks; the Argo CD health check in
    deploy/argocd/health.lua): `Ready`, and at most one of kstatus's abnormal-true conditions,
    `Reconciling` (the operator is working on it: kstatus InProgress) or `Stalled` (it cannot go on
    without a person: kstatus Failed)."""

    ready: bool
    reason: str
    message: str
    progress: Literal["Reconciling", "Stalled"] | None = None


def with_health(conditions: list[dict[str, Any]], health: Health, generation: int) -> list[dict[str, Any]]:
    """Sets Ready; Reconciling and Stalled are present only while True (kstatus's convention), so a
    condition disappears when it stops being true."""
    conditions = set_condition(conditions, "Ready", "True" if health.ready else "False", health.reason,
                               health.message, generation)
    for type_ in ("Reconciling", "Stalled"):
        if health.progress == type_:
            conditions = set_condition(conditions, type_, "True", health.reason, health.message, generation)
        else:
            conditions = [c for c in conditions if c.get("type") != type_]
    return conditions


def find_condition(conditions: list[dict[str, Any]], type_: str) -> dict[str, Any]:
    return next((c for c in conditions if c.get("type") == type_), {})


def condition_status(conditions: list[dict[str, Any]], type_: str) -> str | None:
    found = next((c for c in conditions if c.get("type") == type_), None)
    return None if found is None else str(found.get("status"))
