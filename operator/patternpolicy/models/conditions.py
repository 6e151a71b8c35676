"""Status conditions shaped like metav1.Condition (pure helpers)."""

from __future__ import annotations

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
    return [c for c in conditions if c.get("type") != type_] + [condition]


def condition_status(conditions: list[dict[str, Any]], type_: str) -> str | None:
    found = next((c for c in conditions if c.get("type") == type_), None)
    return None if found is None else str(found.get("status"))
