"""Deletion with onDelete: Orphan, and drift of applied policies."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy.adapters.kube import KubeError, patch_status
from patternpolicy.models.conditions import set_condition
from patternpolicy.services.lifecycle import missing_policies, orphan_policies

DRIFT_INTERVAL = float(os.environ.get("PATTERNPOLICY_DRIFT_INTERVAL", "60"))


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


@kopf.timer(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, interval=DRIFT_INTERVAL, initial_delay=DRIFT_INTERVAL,
            when=lambda status, **_: status.get("phase") == "Applied")
def detect_drift(body: kopf.Body, meta: kopf.Meta, spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch,
                 **_: Any) -> None:
    try:
        missing = missing_policies(list(status.get("appliedPolicies") or []))
    except KubeError as exc:
        raise kopf.TemporaryError(f"cannot check applied policies: {exc}", delay=DRIFT_INTERVAL) from exc
    if not missing:
        return
    generation = int(meta.get("generation") or 1)
    message = (f"applied policy deleted outside patternpolicy: {', '.join(missing)}; it is re-created only after "
               "approval: set approved to false, then true")
    conditions = set_condition(list(status.get("conditions") or []), "Drifted", "True", "PolicyDeleted", message,
                               generation)
    conditions = set_condition(conditions, "Applied", "False", "PolicyDeleted", message, generation)
    patch.status.update({"phase": "Pending", "approvalVoided": True, "conditions": conditions})
    kopf.warn(body, reason="PolicyDrift", message=message)
    pattern = (spec.get("patternRef") or {}).get("name")
    if pattern:
        with contextlib.suppress(KubeError):
            patch_status(c.PATTERN_PLURAL, pattern, {"summary": f"Drifted ({meta['name']})"})
