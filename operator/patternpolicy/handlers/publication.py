"""Publishing an analysed generation as a PolicyProposal so that a kill at any instant loses nothing paid for.

The order of writes is what makes it safe:

1. the pattern's status records the analysis and the digest of the proposal's content (only the operator
   writes a Pattern's status);
2. the proposal is created;
3. the proposal's status records its provenance (status cannot be set on create).

Killed after 1, the proposal does not exist and the generation is analysed again (one more model call: the
content itself is not kept anywhere else). Killed after 2, the restarted operator finds the proposal
without provenance and vouches for it only if its content has the digest recorded in 1 and it is owned by
the pattern: a proposal written by hand under that name never gets provenance this way. Within one
process, a failed step is retried from the proposal kept in memory, without a second analysis.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy.adapters.kube import KubeError, create_proposal, get_proposal, patch_status
from patternpolicy.compile.naming import proposal_name
from patternpolicy.handlers.summary import derived_status, refresh_pattern_status
from patternpolicy.models.conditions import find_condition, set_condition
from patternpolicy.models.pattern import PatternRef
from patternpolicy.reconcile.proposal_status import validating_status
from patternpolicy.reconcile.proposals import content_digest
from patternpolicy.reconcile.provenance import provenance_of

log = logging.getLogger(__name__)
UNPUBLISHED = "ProposalNotPublished"

# (pattern uid, generation) -> (the proposal to create, the pattern status that announces it).
_unpublished: dict[tuple[str, int], tuple[dict[str, Any], dict[str, Any]]] = {}


def unpublished(ref: PatternRef) -> tuple[dict[str, Any], dict[str, Any]] | None:
    return _unpublished.get((ref.uid, ref.generation))


def with_digest(update: dict[str, Any], proposal: dict[str, Any]) -> dict[str, Any]:
    """The pattern status update, its analysis carrying the digest of the proposal about to be created."""
    analysis = {**(update.get("analysis") or {}), "proposalDigest": content_digest(proposal.get("spec") or {})}
    return {**update, "analysis": analysis}


def _as_stored(proposal: dict[str, Any]) -> dict[str, Any]:
    """The proposal as the apiserver will store it (a dry-run create: embedded objects are normalised, 1.0
    becomes 1), so that the digest recorded before the creation matches what a restart reads back."""
    with contextlib.suppress(KubeError):  # the real create reports the error; the digest is a best guess then
        stored = create_proposal(proposal, dry_run=True)
        if stored is not None:
            return stored
    return proposal


def _record_provenance(proposal: str, provenance: dict[str, Any], generation: int) -> None:
    """A few tries, as a proposal left without provenance is never applied. With it, Ready=False and
    Reconciling=True: GitOps tools see the proposal in progress until it is validated."""
    for attempt in range(3):
        try:
            patch_status(c.PROPOSAL_PLURAL, proposal, {"provenance": provenance, **validating_status([], generation)})
            return
        except KubeError:
            if attempt == 2:
                raise
            time.sleep(1)


def publish(owner: kopf.Body, ref: PatternRef, proposal: dict[str, Any], update: dict[str, Any],
            current: dict[str, Any], patch: kopf.Patch) -> None:
    """Steps 1-3 above; raises kopf.TemporaryError when a step fails (the retry resumes from memory)."""
    name = proposal["metadata"]["name"]
    if (ref.uid, ref.generation) not in _unpublished:
        update = with_digest(update, _as_stored(proposal))
    _unpublished[(ref.uid, ref.generation)] = (proposal, update)
    created: dict[str, Any] | None = None
    try:
        patch_status(c.PATTERN_PLURAL, ref.name, update)
        created = create_proposal(proposal)
        if created is not None:
            # The digest of the content as the apiserver stored it (embedded objects are normalised).
            _record_provenance(name, provenance_of(ref, dict(created.get("spec") or {})),
                               int((created.get("metadata") or {}).get("generation") or 1))
        else:
            vouch_for(ref, update)  # created by this generation's earlier try, whose provenance write was lost
    except KubeError as exc:
        step = "created" if created is None else "given its provenance"
        _report_unpublished(ref, {**current, **update},
                            f"PolicyProposal {name} could not be {step} yet, retrying: {exc}")
        raise kopf.TemporaryError(f"PolicyProposal {name} not {step} yet: {exc}", delay=15) from exc
    _unpublished.pop((ref.uid, ref.generation), None)
    if created is not None:
        kopf.info(owner, reason="ProposalCreated", message=f"PolicyProposal {name} awaits approval")
    final = dict(update)
    with contextlib.suppress(KubeError):  # the summary says what is applied too, not only what was proposed
        final.update(derived_status(ref.name, ref.uid, {**current, **update}))
    patch.status.update(final)


def _report_unpublished(ref: PatternRef, status: dict[str, Any], message: str) -> None:
    conditions = set_condition(list(status.get("conditions") or []), "ProposalReady", "False", UNPUBLISHED,
                               message[:1000], ref.generation)
    with contextlib.suppress(KubeError):
        patch_status(c.PATTERN_PLURAL, ref.name, {"conditions": conditions})


def _report_published(ref: PatternRef, status: dict[str, Any]) -> None:
    """Clears the condition a failed step left (the kill came before the retry that would have)."""
    conditions = list(status.get("conditions") or [])
    if find_condition(conditions, "ProposalReady").get("reason") == UNPUBLISHED:
        conditions = set_condition(conditions, "ProposalReady", "True", "ProposalCreated",
                                   f"PolicyProposal {proposal_name(ref)} awaits approval", ref.generation)
        patch_status(c.PATTERN_PLURAL, ref.name, {"conditions": conditions})


class NameTaken(KubeError):
    """The generation's proposal name is held by a proposal the operator cannot vouch for."""


def vouch_for(ref: PatternRef, status: dict[str, Any]) -> bool:
    """After a restart: True when the generation's proposal exists and carries its provenance, writing it first
    when the operator created the proposal but was stopped before recording it. False: it does not exist.
    Raises NameTaken for a proposal of that name the operator cannot vouch for."""
    name = proposal_name(ref)
    found = get_proposal(name)
    if found is None:
        return False
    provenance = (found.get("status") or {}).get("provenance") or {}
    if provenance.get("patternUID") == ref.uid:
        return True
    analysis = status.get("analysis") or {}
    spec = dict(found.get("spec") or {})
    owned = any(o.get("uid") == ref.uid and o.get("controller")
                for o in (found.get("metadata") or {}).get("ownerReferences") or [])
    if not provenance and owned and analysis.get("generation") == ref.generation \
            and analysis.get("proposalDigest") == content_digest(spec):
        log.info("PolicyProposal %s was created before a restart: recording its provenance", name)
        _record_provenance(name, provenance_of(ref, spec), int((found.get("metadata") or {}).get("generation") or 1))
        return True
    raise NameTaken(f"a PolicyProposal {name} exists whose content the operator did not record for generation "
                    f"{ref.generation} of this pattern (it is never applied); delete it, and the operator proposes "
                    "this generation")


def resume(ref: PatternRef, status: dict[str, Any]) -> bool:
    """For a generation analysed before: finish its publication. False when its proposal must be made again
    (the analysis promised one that does not exist: killed between steps 1 and 2, or deleted by hand)."""
    analysis = status.get("analysis") or {}
    if analysis.get("enforceable") == "True":
        if not vouch_for(ref, status):
            return False
        _report_published(ref, status)
    refresh_pattern_status(ref.name)
    return True
