"""Building proposals and deciding what to do with one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from patternpolicy import constants as c
from patternpolicy.compile.naming import proposal_name
from patternpolicy.labels import label_value
from patternpolicy.services.pipeline import Generated


def content_digest(spec: dict[str, Any]) -> str:
    """sha256 over what a reviewer approves: the policies and their tests, canonical JSON."""
    content = {"policies": spec.get("policies") or [], "tests": spec.get("tests") or []}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def build_proposal(generated: Generated) -> dict[str, Any]:
    ref = generated.pattern.ref
    return {
        "apiVersion": c.API_VERSION,
        "kind": "PolicyProposal",
        "metadata": {
            "name": proposal_name(ref),
            "labels": {c.MANAGED_BY_LABEL: c.MANAGED_BY, c.PATTERN_LABEL: label_value(ref.name),
                       c.GENERATION_LABEL: str(ref.generation)},
        },
        "spec": {
            "patternRef": {"name": ref.name, "uid": ref.uid, "generation": ref.generation},
            "approved": False,
            "policies": generated.policies,
            "tests": [
                {"policy": t["policy"], "rule": t["rule"], "expect": t["expect"], "resource": t["resource"]}
                for t in generated.tests
            ],
        },
    }


Action = Literal["validate", "apply", "void", "reset-void", "wait", "done"]


@dataclass(frozen=True)
class Decision:
    action: Action
    digest: str


def decide(spec: dict[str, Any], status: dict[str, Any]) -> Decision:
    """What the operator does next with a proposal, from its spec and status alone."""
    digest = content_digest(spec)
    approved = bool(spec.get("approved"))
    phase = status.get("phase")
    if status.get("digest") != digest:
        # New or edited content: validate it; an approval given to other content is void.
        if approved and status.get("digest"):
            return Decision("void", digest)
        return Decision("validate", digest)
    if phase in ("Applied", "Superseded") or (phase == "Invalid" and status.get("validationPassed") is not True):
        return Decision("done", digest)
    # Invalid with valid content: untrusted only (its ownerReference was removed, say), which the operator may
    # repair; whether an approval then takes effect is for the status module's `blocked` to say.
    if status.get("approvalVoided"):
        # A voided approval stays void until a person withdraws it and approves again.
        return Decision("wait" if approved else "reset-void", digest)
    if approved and phase in ("Pending", "Approved", "Failed", "Invalid"):
        return Decision("apply", digest)
    return Decision("wait", digest)
