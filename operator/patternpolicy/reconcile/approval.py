"""Whether a person's approval can take effect, said before it is given (`patternpolicy approve`). Pure."""

from __future__ import annotations

from typing import Any

from patternpolicy.compile.naming import proposal_name
from patternpolicy.models.pattern import PatternRef
from patternpolicy.reconcile.proposals import content_digest
from patternpolicy.reconcile.provenance import trust


def approval_refusal(proposal: dict[str, Any], pattern: dict[str, Any] | None, allow_unproven: bool) -> str | None:
    """Why approving this proposal would not apply it (None: the approval can take effect).

    The operator refuses the same cases on its side; this only says so at once, with the remedy.
    """
    meta, spec, status = proposal.get("metadata") or {}, proposal.get("spec") or {}, proposal.get("status") or {}
    ref = spec.get("patternRef") or {}
    phase = status.get("phase")
    if phase == "Superseded":
        return f"{meta.get('name')} is Superseded by {status.get('supersededBy', 'a newer proposal')}; approve the " \
               "pattern's newest proposal instead"
    verdict = trust(meta, spec, status, pattern)
    if not verdict.trusted:
        return f"{verdict.reason}: {verdict.message}"
    if not phase or status.get("digest") != content_digest(spec):
        return f"{meta.get('name')} is still being validated; try again in a moment"
    if phase == "Invalid":
        failed = [f"{k}: {r.get('detail')}" for k, r in (status.get("validation") or {}).items()
                  if r.get("result") == "Failed"]
        return f"{meta.get('name')} is Invalid ({'; '.join(failed) or 'validation failed'}); it is never applied"
    current = int(((pattern or {}).get("metadata") or {}).get("generation") or 0)
    if current and current != ref.get("generation") and phase != "Applied":
        newer = proposal_name(PatternRef(name=str(ref.get("name")), generation=current))
        return (f"{meta.get('name')} is for generation {ref.get('generation')} of pattern {ref.get('name')}, which is "
                f"now at generation {current}; review and approve {newer} instead")
    behaviour = (status.get("validation") or {}).get("behaviour") or {}
    if behaviour.get("result") != "Passed" and not (allow_unproven or spec.get("allowUnproven")):
        detail = behaviour.get("detail", "not run")
        return (f"the behaviour of {meta.get('name')} was not proven on the engine ({detail}); it is applied "
                "unproven only with --allow-unproven (spec.allowUnproven: true)")
    return None
