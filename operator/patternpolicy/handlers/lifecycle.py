"""Deletion with onDelete: Orphan (drift of applied policies: handlers/proposals.py keeps them in force)."""

from __future__ import annotations

from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy.services.lifecycle import orphan_policies


def _orphaning(spec: kopf.Spec, **_: Any) -> bool:
    return (spec.get("policyGeneration") or {}).get("onDelete") == "Orphan"


@kopf.on.delete(c.GROUP, c.VERSION, c.PATTERN_PLURAL, when=_orphaning)
def keep_policies(body: kopf.Body, meta: kopf.Meta, logger: kopf.Logger, **_: Any) -> None:
    """The finalizer kopf holds for this handler is released whatever happens here."""
    orphaned, problems = orphan_policies(meta["name"])
    if orphaned:
        logger.info("kept %d policy object(s) after deletion: %s", len(orphaned), ", ".join(orphaned))
        kopf.info(body, reason="PoliciesOrphaned", message=f"kept after deletion: {', '.join(orphaned)}"[:1000])
    for problem in problems:
        logger.warning("could not orphan a policy (it may be deleted with the pattern): %s", problem)
