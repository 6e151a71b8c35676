"""Building pod-spec rules (Pod + every controller) with their proof samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.podspec import POD_METADATA, POD_VARIABLES, pod_samples
from patternpolicy.models.rules import Rule, Validation

PodSpec = dict[str, Any]


@dataclass(frozen=True)
class PodCheck:
    """One deny rule over pod specs; `good` and `bad` specs prove it on the engine."""

    id: str
    description: str
    expression: str
    message: str
    good: list[PodSpec]
    bad: list[PodSpec]
    fields: list[str] = field(default_factory=list)
    with_metadata: bool = False  # reads the pod template's metadata (labels, annotations)


def c(name: str = "app", **fields: Any) -> dict[str, Any]:
    """A container for samples."""
    return {"name": name, "image": fields.pop("image", "registry.example.com/team/app:1.4.2"), **fields}


def sc(**security: Any) -> dict[str, Any]:
    """A container with a securityContext."""
    return c(securityContext=security)


def pod_finding(ctx: Context, intent: str, *checks: PodCheck) -> Finding | None:
    """Rules over pod templates; None when the pattern names only kinds without pods (not this intent)."""
    targets = ctx.pod_targets()
    if targets is None:
        return None
    rules = []
    for check in checks:
        samples = []
        for i, spec in enumerate(check.good):
            samples += pod_samples(check.id, spec, "allow", f"good{i}", targets)
        for i, spec in enumerate(check.bad):
            samples += pod_samples(check.id, spec, "deny", f"bad{i}", targets)
        rules.append(Rule(
            id=check.id, description=check.description, targets=targets,
            variables=[*POD_VARIABLES, POD_METADATA] if check.with_metadata else POD_VARIABLES,
            validations=[Validation(expression=check.expression, message=check.message)], samples=samples,
            fields_read={"containers": check.fields},
        ))
    return Finding(intent, rules=rules)
