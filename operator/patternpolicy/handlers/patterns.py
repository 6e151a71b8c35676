"""Pattern handlers: analyse a new generation once, propose, report in status."""

from __future__ import annotations

from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy.adapters.anthropic_api import ModelError
from patternpolicy.adapters.kube import KubeError, create_proposal, get_proposal
from patternpolicy.compile.choice import choose_engine
from patternpolicy.compile.naming import proposal_name
from patternpolicy.handlers import runtime
from patternpolicy.models.pattern import InvalidPattern, Pattern, PatternRef, parse_pattern_spec
from patternpolicy.reconcile.proposals import build_proposal
from patternpolicy.reconcile.status import (
    pattern_status_after_analysis,
    pattern_status_invalid,
    pattern_status_no_engine,
    pattern_status_waiting,
)
from patternpolicy.services.pipeline import PipelineError, run_pipeline
from patternpolicy.validate.field_check import NO_SCHEMA


def _already_handled(status: dict[str, Any], ref: PatternRef) -> bool:
    """True when this generation was analysed before: the analyser (maybe a paid model) must not rerun."""
    analysis = status.get("analysis") or {}
    if analysis.get("generation") == ref.generation:
        return True
    return get_proposal(proposal_name(ref)) is not None


@kopf.on.resume(c.GROUP, c.VERSION, c.PATTERN_PLURAL)
@kopf.on.create(c.GROUP, c.VERSION, c.PATTERN_PLURAL)
@kopf.on.update(c.GROUP, c.VERSION, c.PATTERN_PLURAL, field="spec")
def reconcile_pattern(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
                      patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    ref = PatternRef(name=meta["name"], uid=meta["uid"], generation=int(meta.get("generation") or 1))
    current = dict(status)
    try:
        pattern = Pattern(ref=ref, spec=parse_pattern_spec(dict(spec)))
    except InvalidPattern as exc:
        patch.status.update(pattern_status_invalid(current, ref.generation, str(exc)))
        raise kopf.PermanentError(f"invalid Pattern: {exc}") from exc
    try:
        if _already_handled(current, ref):
            logger.debug("generation %s already handled", ref.generation)
            return
        # A new generation is rare and analysed once: read discovery afresh, so that a kind whose
        # CRD was installed a moment ago is already known (CRD events may arrive after this pattern's).
        runtime.catalog().invalidate()
        catalog = runtime.resolving_catalog(runtime.catalog().get())
        requested = pattern.spec.policy_generation.engine
        choice = choose_engine(runtime.facts().get(), runtime.default_engine() if requested == "auto" else requested)
    except KubeError as exc:
        raise kopf.TemporaryError(f"cluster not ready: {exc}", delay=15) from exc
    if choice.target is None:
        # Checked before analysis: no model call is spent on a pattern that cannot be enforced yet.
        patch.status.update(pattern_status_no_engine(current, ref.generation, choice.reason))
        kopf.warn(body, reason="EngineUnavailable", message=f"no policy engine, retrying in 60s: {choice.reason}")
        raise kopf.TemporaryError(f"no policy engine: {choice.reason}", delay=60)
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
    if NO_SCHEMA in generated.analysis.reason or any(
            NO_SCHEMA in reason for dropped in generated.dropped for reason in dropped.reasons):
        runtime.cluster_changed()
        raise kopf.TemporaryError("a target kind's schema is not published yet; retrying", delay=5)
    kopf.info(body, reason="PatternAnalyzed", message=(
        f"analysed by {generated.analysis.analyzer}: {len(generated.analysis.rules)} rule(s), "
        f"{len(generated.policies)} policy object(s), {len(generated.dropped)} rule(s) dropped"))
    proposal: str | None = None
    if generated.enforceable:
        body_ = build_proposal(generated)
        kopf.adopt(body_, owner=body)
        try:
            created = create_proposal(body_)
        except KubeError as exc:
            raise kopf.TemporaryError(str(exc), delay=15) from exc
        proposal = body_["metadata"]["name"]
        if created:
            kopf.info(body, reason="ProposalCreated", message=f"PolicyProposal {proposal} awaits approval")
    else:
        kopf.info(body, reason="NotEnforceable", message=generated.reason[:1000])
    patch.status.update(pattern_status_after_analysis(current, generated, proposal))
