"""Pattern handlers: analyse a new generation once, propose, report in status."""

from __future__ import annotations

import contextlib
import os
from typing import Any, NoReturn

import kopf

from patternpolicy import constants as c
from patternpolicy.adapters.anthropic_api import ModelError
from patternpolicy.adapters.kube import KubeError, get_proposal, list_proposals, patch_status, set_proposal_owners
from patternpolicy.compile.choice import choose_engine
from patternpolicy.compile.naming import proposal_name
from patternpolicy.handlers import publication, runtime
from patternpolicy.handlers.summary import refresh_pattern_status
from patternpolicy.models.pattern import InvalidPattern, Pattern, PatternRef, parse_pattern_spec
from patternpolicy.reconcile.proposals import build_proposal
from patternpolicy.reconcile.provenance import disowned, generated_for
from patternpolicy.reconcile.status import (
    pattern_status_after_analysis,
    pattern_status_analysing,
    pattern_status_invalid,
    pattern_status_name_taken,
    pattern_status_no_engine,
    pattern_status_waiting,
)
from patternpolicy.services.pipeline import PipelineError, run_pipeline
from patternpolicy.services.scope_check import namespace_notes
from patternpolicy.validate.field_check import NO_SCHEMA

RESYNC_INTERVAL = float(os.environ.get("PATTERNPOLICY_DRIFT_INTERVAL", "60"))
# (pattern uid, generation) whose analysis runs now: the resync timer must not start a second, paid one.
_analysing: set[tuple[str, int]] = set()


def _name_taken(existing: dict[str, Any] | None, ref: PatternRef) -> str | None:
    """Why this generation cannot be proposed: a proposal of its name that the operator did not make for it."""
    if existing is None or generated_for(existing, ref.uid):
        return None
    return (f"a PolicyProposal {proposal_name(ref)} exists that the operator did not create for this pattern (it "
            "is never applied); delete it, and the operator proposes this generation")


def _report_name_taken(body: kopf.Body, current: dict[str, Any], ref: PatternRef, message: str) -> NoReturn:
    """Nothing is analysed or proposed for this generation until the name is free; checked again in a minute."""
    with contextlib.suppress(KubeError):
        patch_status(c.PATTERN_PLURAL, ref.name, pattern_status_name_taken(current, ref.generation, message))
    kopf.warn(body, reason="NameTaken", message=message[:1000])
    raise kopf.TemporaryError(message, delay=60)


@kopf.on.resume(c.GROUP, c.VERSION, c.PATTERN_PLURAL)
@kopf.on.create(c.GROUP, c.VERSION, c.PATTERN_PLURAL)
@kopf.on.update(c.GROUP, c.VERSION, c.PATTERN_PLURAL, field="spec")
def reconcile_pattern(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
                      patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    _propose(body, spec, meta, status, patch, logger, again=False)


@kopf.timer(c.GROUP, c.VERSION, c.PATTERN_PLURAL, interval=RESYNC_INTERVAL, initial_delay=RESYNC_INTERVAL)
def keep_proposed(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
                  patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    """Level-triggered: a proposal deleted by hand is proposed again; the summary follows the proposals."""
    ref = PatternRef(name=meta["name"], uid=meta["uid"], generation=int(meta.get("generation") or 1))
    current = dict(status)
    analysed = (current.get("analysis") or {}).get("generation") == ref.generation
    try:
        # A proposal deleted by hand, or created just before a kill without its provenance.
        missing = analysed and not publication.resume(ref, current)
        if not analysed:
            refresh_pattern_status(ref.name)
    except publication.NameTaken as exc:
        _report_name_taken(body, current, ref, str(exc))
    except KubeError as exc:
        raise kopf.TemporaryError(f"cluster not ready: {exc}", delay=15) from exc
    if missing and (ref.uid, ref.generation) in _analysing:
        logger.debug("generation %s is being analysed by its change handler", ref.generation)
    elif missing:
        logger.info("proposal %s does not exist: proposing generation %s again", proposal_name(ref), ref.generation)
        _propose(body, spec, meta, status, patch, logger, again=True)
    try:
        _readopt(body, ref, logger)
    except KubeError as exc:
        logger.warning("cannot restore the ownerReferences of %s's proposals, trying again: %s", ref.name, exc)


def _readopt(body: kopf.Body, ref: PatternRef, logger: kopf.Logger) -> None:
    """The pattern's own proposals (by the provenance only the operator writes) that lost their ownerReference get
    it back: without it a proposal is never applied, nor garbage-collected with its pattern."""
    owner: dict[str, Any] = {"metadata": {}}
    kopf.append_owner_reference(owner, owner=body)
    for proposal in list_proposals(ref.name):
        if disowned(proposal, ref.uid):
            name = proposal["metadata"]["name"]
            owners = [*(proposal["metadata"].get("ownerReferences") or []), *owner["metadata"]["ownerReferences"]]
            set_proposal_owners(name, owners)
            logger.info("restored the ownerReference of PolicyProposal %s", name)
            kopf.warn(body, reason="OwnerRestored",
                      message=f"PolicyProposal {name} had lost its ownerReference to this pattern; restored")


@kopf.on.event(c.GROUP, c.VERSION, c.PROPOSAL_PLURAL, when=lambda type, **_: type == "DELETED")
def proposal_deleted(type: str | None, body: kopf.Body, **_: Any) -> None:
    """A deleted proposal disappears from its pattern's status at once (phases are reported by their handlers)."""
    pattern = ((body.get("spec") or {}).get("patternRef") or {}).get("name")
    if type == "DELETED" and pattern:
        refresh_pattern_status(str(pattern))


def _propose(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
             patch: kopf.Patch, logger: kopf.Logger, again: bool) -> None:
    ref = PatternRef(name=meta["name"], uid=meta["uid"], generation=int(meta.get("generation") or 1))
    current = dict(status)
    try:
        pattern = Pattern(ref=ref, spec=parse_pattern_spec(dict(spec)))
    except InvalidPattern as exc:
        patch.status.update(pattern_status_invalid(current, ref.generation, str(exc)))
        raise kopf.PermanentError(f"invalid Pattern: {exc}") from exc
    pending = publication.unpublished(ref)
    if pending is not None:  # analysed in this process; only its publication failed: no second analysis
        publication.publish(body, ref, *pending, current=current, patch=patch)
        return
    try:
        if not again and (current.get("analysis") or {}).get("generation") == ref.generation:
            # Analysed before (maybe by a paid model): the analyser must not run again for it.
            if publication.resume(ref, current):
                logger.debug("generation %s already handled", ref.generation)
                return
            logger.info("the proposal of generation %s does not exist: analysing it again", ref.generation)
        existing = get_proposal(proposal_name(ref))
        taken = _name_taken(existing, ref)
        if taken:
            _report_name_taken(body, current, ref, taken)
        if not again and existing is not None:
            # The operator's own proposal, whose pattern status write was lost: nothing to analyse.
            refresh_pattern_status(ref.name)
            return
        # A new generation is rare and analysed once: read discovery afresh, so that a kind whose
        # CRD was installed a moment ago is already known (CRD events may arrive after this pattern's).
        runtime.catalog().invalidate()
        catalog = runtime.resolving_catalog(runtime.catalog().get())
        requested = pattern.spec.policy_generation.engine
        choice = choose_engine(runtime.facts().get(), runtime.default_engine() if requested == "auto" else requested)
    except publication.NameTaken as exc:
        _report_name_taken(body, current, ref, str(exc))
    except KubeError as exc:
        raise kopf.TemporaryError(f"cluster not ready: {exc}", delay=15) from exc
    if choice.target is None:
        # Checked before analysis: no model call is spent on a pattern that cannot be enforced yet.
        patch.status.update(pattern_status_no_engine(current, ref.generation, choice.reason))
        kopf.warn(body, reason="EngineUnavailable", message=f"no policy engine, retrying in 60s: {choice.reason}")
        raise kopf.TemporaryError(f"no policy engine: {choice.reason}", delay=60)
    with contextlib.suppress(KubeError):  # only a signal for GitOps tools: analysis goes on without it
        patch_status(c.PATTERN_PLURAL, ref.name, pattern_status_analysing(current, ref.generation))
    if (ref.uid, ref.generation) in _analysing:  # kopf runs timers beside change handlers: one analysis at a time
        raise kopf.TemporaryError(f"generation {ref.generation} is being analysed already", delay=30)
    _analysing.add((ref.uid, ref.generation))
    try:
        generated = run_pipeline(pattern, runtime.analyzer(), catalog, field_check=runtime.field_check(),
                                 engine=choice.target)
    except PipelineError as exc:
        patch.status.update(pattern_status_invalid(current, ref.generation, str(exc)))
        kopf.warn(body, reason="InvalidSpec", message=str(exc)[:1000])
        raise kopf.PermanentError(str(exc)) from exc
    except ModelError as exc:
        patch.status.update(pattern_status_waiting(current, ref.generation, str(exc)))
        # A rejection (key, retired model id) is fixed by a settings change and a restart; until then the
        # status names the setting, and the retry costs one refused request a minute.
        kopf.warn(body, reason="ModelUnavailable", message=f"retrying in 60s: {exc}"[:1000])
        raise kopf.TemporaryError(f"model unavailable: {exc}", delay=60) from exc
    finally:
        _analysing.discard((ref.uid, ref.generation))
    with contextlib.suppress(KubeError):  # a note only: the proposal does not depend on it
        notes = namespace_notes(pattern.spec.policy_generation.namespaces.include)
        if notes and generated.enforceable:
            generated.analysis = generated.analysis.model_copy(update={"notes": [*generated.analysis.notes, *notes]})
    if NO_SCHEMA in generated.analysis.reason or any(
            NO_SCHEMA in reason for dropped in generated.dropped for reason in dropped.reasons):
        runtime.cluster_changed()
        raise kopf.TemporaryError("a target kind's schema is not published yet; retrying", delay=5)
    kopf.info(body, reason="PatternAnalyzed", message=(
        f"analysed by {generated.analysis.analyzer}: {len(generated.analysis.rules)} rule(s), "
        f"{len(generated.policies)} policy object(s), {len(generated.dropped)} rule(s) dropped"))
    if not generated.enforceable:
        kopf.info(body, reason="NotEnforceable", message=generated.reason[:1000])
        patch.status.update(pattern_status_after_analysis(current, generated, None))
        return
    proposal = build_proposal(generated)
    kopf.adopt(proposal, owner=body)
    update = pattern_status_after_analysis(current, generated, proposal["metadata"]["name"])
    publication.publish(body, ref, proposal, update, current=current, patch=patch)
