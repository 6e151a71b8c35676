"""Building rules over whole objects (Services, Ingresses, RBAC, ...) with proof samples."""

from __future__ import annotations

from typing import Any

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.models.rules import KindRef, Rule, Sample, Validation, Verdict


def obj(kind: KindRef, name: str, body: dict[str, Any], **meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, **meta}
    if kind.namespaced:
        metadata.setdefault("namespace", "default")
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata, **body}


def object_finding(ctx: Context, intent: str, kind_names: list[str], rule_id: str, description: str,
                   expression: str, message: str, good: list[dict[str, Any]], bad: list[dict[str, Any]],
                   fields: list[str], related: tuple[str, ...] = ()) -> Finding | None:
    """A rule on the given kinds; None when the pattern is plainly about other kinds.

    `good` and `bad` hold object bodies (everything but apiVersion/kind/metadata.name);
    each is instantiated for every target kind. `related` kinds may be named without
    being governed (a binding rule talks about the ClusterRole it binds).
    """
    targets = [k for k in (ctx.catalog.by_kind(n) for n in kind_names) if k is not None]
    if not targets or (ctx.named and not any(k in targets or k.kind in related for k in ctx.named)):
        return None
    samples: list[Sample] = []
    for kind in targets:
        pairs: tuple[tuple[Verdict, list[dict[str, Any]]], ...] = (("allow", good), ("deny", bad))
        for verdict, bodies in pairs:
            for i, body in enumerate(bodies):
                body = dict(body)
                meta = body.pop("metadata", {})
                samples.append(Sample(resource=obj(kind, f"{verdict}{i}-{rule_id}", body, **meta),
                                      expect=verdict))
    rule = Rule(id=rule_id, description=description, targets=targets,
                validations=[Validation(expression=expression, message=message)], samples=samples,
                fields_read={"object": fields})
    return Finding(intent, rules=[rule])
