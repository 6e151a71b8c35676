"""A pattern's summary and applied policies, re-derived from the proposals that exist (best effort)."""

from __future__ import annotations

import contextlib
from typing import Any

from patternpolicy import constants as c
from patternpolicy.adapters.kube import KubeError, get_pattern, list_proposals, patch_status
from patternpolicy.reconcile.status import pattern_status_from_proposals


def derived_status(pattern: str, uid: str, current: dict[str, Any],
                   patched: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """{proposals, appliedPolicies, summary, conditions} from the pattern's own proposals as they are now.

    `patched`: proposal name -> status fields a handler is about to write (kopf patches after it returns).
    Raises KubeError when the proposals cannot be listed.
    """
    # Only the pattern's own proposals: a hand-made one with the same label does not speak for it.
    proposals = [p for p in list_proposals(pattern)
                 if any(o.get("uid") == uid and o.get("controller") for o in p["metadata"].get("ownerReferences") or [])
                 and not p["metadata"].get("deletionTimestamp")]
    for proposal in proposals:
        extra = (patched or {}).get(proposal["metadata"]["name"])
        if extra:
            proposal["status"] = {**(proposal.get("status") or {}), **extra}
    return pattern_status_from_proposals(current, [p for p in proposals if (p.get("status") or {}).get("provenance")],
                                         pattern)


def refresh_pattern_status(pattern: str, patched: dict[str, dict[str, Any]] | None = None) -> None:
    """Best effort: the pattern may be going away; the proposals' own statuses are authoritative."""
    with contextlib.suppress(KubeError):
        found = get_pattern(pattern)
        if found is None or (found.get("metadata") or {}).get("deletionTimestamp"):
            return
        current = dict(found.get("status") or {})
        update = derived_status(pattern, found["metadata"]["uid"], current, patched)
        if any(current.get(k) != v for k, v in update.items()):
            patch_status(c.PATTERN_PLURAL, pattern, update)
