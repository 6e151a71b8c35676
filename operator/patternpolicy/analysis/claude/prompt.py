"""A bounded prompt: the pattern, the candidate kinds and only what the model needs about them."""

from __future__ import annotations

import json

from patternpolicy.analysis.podspec import POD_VARIABLES, pod_spec_path
from patternpolicy.discovery.stage import Discovery
from patternpolicy.discovery.subjects import Subjects
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import KindRef

SYSTEM = """You turn an organisation's written Kubernetes rule into admission deny rules.
Each rule is a set of CEL validations evaluated by Kyverno ValidatingPolicy / ValidatingAdmissionPolicy:
`object` is the object being admitted; an expression that evaluates to true ALLOWS the object.
Use has() before reading optional fields. Do not use the optional `?.` syntax.
For pod-level rules you may read `variables.podSpec` (the pod spec of a Pod or of any controller's template)
and `variables.containers` (containers + initContainers + ephemeralContainers); declare no other pod variables.
Only use kinds from the candidate list or returned by the look_up_kinds tool, and only fields that exist
on them. Call look_up_kinds first (it answers from the cluster) when a kind the rule needs is not among
the candidates, or when you are unsure of a kind's fields; lookups are few, so ask for all you need at once.
Every rule needs compliant and violating sample objects (complete, with apiVersion, kind, metadata.name).
If the text is advice, a preference, or cannot be checked on a single object at admission time, answer
enforceable=false with the reason. Never invent names, labels or namespaces for the policy itself.
Answer only by calling the propose_rules tool, exactly once, with the whole proposal (also when it is
enforceable=false); a plain-text answer cannot be used."""


def candidate_kinds(discovery: Discovery) -> tuple[list[KindRef], Subjects]:
    """Discovery's wider candidate list (named, described, sibling and related kinds; the model judges)."""
    return discovery.kinds(), Subjects(discovery.candidates, discovery.note)


def user_message(pattern: Pattern, kinds: list[KindRef], subjects: Subjects | None = None) -> str:
    why = {s.kind: s.explanation for s in (subjects.found if subjects else ()) if s.reason != "exact"}
    names = [k.kind for k in kinds]
    kind_lines = [
        f"- {k.kind if names.count(k.kind) == 1 else str(k)} (apiVersion {k.api_version}, "
        f"{'namespaced' if k.namespaced else 'cluster-scoped'}"
        + (f", pod spec at object.{pod_spec_path(k.kind)}" if k.kind != "Pod" and _has_pods(k, kinds) else "")
        + (f"; {why[k]}" if k in why else "")
        + ")"
        for k in kinds
    ]
    variables = "\n".join(f"- variables.{v.name} = {v.expression}" for v in POD_VARIABLES)
    spec = pattern.spec
    return "\n".join([
        "Pattern:", json.dumps({"description": spec.description, "rationale": spec.rationale,
                                "triggers": spec.triggers, "suggestedResources": spec.suggested_resources}),
        "", "Candidate kinds:", *kind_lines, "", "Pod variables available:", variables,
    ])


def _has_pods(kind: KindRef, kinds: list[KindRef]) -> bool:
    return any(k.kind == "Pod" for k in kinds) and kind.kind in (
        "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController")


def estimate_tokens(*texts: str) -> int:
    """A conservative estimate (about 4 characters a token) for the budget check and the log."""
    return sum(len(t) for t in texts) // 4 + 1
