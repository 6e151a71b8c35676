"""Watching states for metrics, and the one step no handler of ours performs on the object itself."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy import metrics


class _QuietWatchers(logging.Filter):
    """kopf logs every event handler's success at INFO: for these watchers that is a line per status change."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not (message.endswith("succeeded.") and ("'pattern_seen'" in message or "'proposal_seen'" in message))


logging.getLogger("kopf.objects").addFilter(_QuietWatchers())


def pattern_state(status: dict[str, Any]) -> str:
    """`Applied (limits-g2)` -> `Applied`; a pattern not analysed yet is `Pending`."""
    summary = str(status.get("summary") or "Pending")
    return summary.split(" (", 1)[0]


@kopf.on.event(c.GROUP, c.VERSION, c.PATTERN_PLURAL)
def pattern_seen(type: str | None, name: str, status: kopf.Status, **_: Any) -> None:
    metrics.observe_state("pattern", name, None if type == "DELETED" else pattern_state(dict(status)))


@kopf.on.event(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL)
def proposal_seen(type: str | None, name: str, body: kopf.Body, status: kopf.Status, **_: Any) -> None:
    phase = None if type == "DELETED" else str(status.get("phase") or "New")
    previous = metrics.observe_state("proposal", name, phase)
    # A newer proposal's apply marks this one Superseded (services/apply.py): say so on this one too.
    if phase == "Superseded" and previous not in (None, "Superseded"):
        replaced_by = status.get("supersededBy") or "a newer proposal"
        kopf.info(body, reason="ProposalSuperseded", message=f"replaced by {replaced_by}; its policies now "
                                                                 "belong to that proposal or were removed")
