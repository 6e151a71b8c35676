"""A pattern's summary and applied policies, re-derived from the proposals that exist (best effort)."""

from __future__ import annotations

import contextlib
from typing import Any

from patternpolicy import constants as c
from patternpolicy.adapters.kube import KubeError, get_pattern, list_proposals, patch_status
from patternpolicy.reconcile.status import pattern_status_from_proposals


def refresh_pattern_status(pattern: str, patched: dict[str, dict[str, Any]] | None = None) -> None:
    """Best effort: the pattern may be going away; the proposals' own statuses are authoritative.

    `patched`: proposal name -> status fields a handler is about to write (kopf patches after it returns).
    """
    with contextlib.suppress(KubeError):
        found = get_pattern(pattern)
        if found is None or (found.get("metadata") or {}).get("deletionTimestamp"):
            return
        uid = found["metadata"]["uid"]
        # Only the pattern's own proposals: a hand-made one with the same label does not speak for it.
        proposals = [p for p in list_proposals(pattern)
                     if any(o.get("uid") == uid and o.get("controller")
                            for o in p["metadata"].get("ownerReferences") or [])
                     and (p.get("status") or {}).get("provenance") and not p["metadata"].get("deletionTimestamp")]
        for proposal in proposals:
            extra = (patched or {}).get(proposal["metadata"]["name"])
            if extra:
                proposal["status"] = {**(proposal.get("status") or {}), **extra}
        update = pattern_status_from_proposals(dict(found.get("status") or {}), proposals)
        if any((found.get("status") or {}).get(k) != v for k, v in update.items()):
            patch_status(c.PATTERN_PLURAL, pattern, update)
