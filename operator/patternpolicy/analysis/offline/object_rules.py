"""Detectors for object-level intents: required labels, minimum replicas."""

from __future__ import annotations

import re
from typing import Any

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.text import cel_string, is_label_key
from patternpolicy.analysis.podspec import POD_METADATA, pod_samples
from patternpolicy.models.rules import KindRef, Rule, Sample, Validation

_STOP = {"that", "to", "on", "for", "with", "which", "is", "are", "be", "must", "should", "the", "a", "an",
         "and", "or", "of", "in", "set", "key", "keys", "value", "values", "defined", "present", "each",
         "every", "all", "any", "specified", "named", "called", "like", "such", "as", "identify",
         "identifying", "semantic", "common", "following"}

def _label_keys(ctx: Context) -> list[str]:
    quoted = [q for q in ctx.text.quoted() if is_label_key(q) and ("/" in q or "." in q or "-" in q or q.isalpha())]
    if quoted:
        return list(dict.fromkeys(quoted))
    keys: list[str] = []
    for m in re.finditer(r"\blabels?\s+((?:[a-z0-9][a-z0-9./-]*[a-z0-9](?:\s*,\s*|\s+and\s+|\s*$|\s+))+)",
                         ctx.text.lower):
        for token in re.split(r"\s*,\s*|\s+and\s+|\s+", m.group(1)):
            if token and token not in _STOP and is_label_key(token):
                keys.append(token)
            elif token in _STOP:
                break
    return list(dict.fromkeys(keys))


def _sample_object(kind: KindRef, name: str, labels: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if kind.namespaced:
        meta["namespace"] = "default"
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta}


def required_labels(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"\blabels?\b") or not t.required():
        return None
    if t.has("must not", "disallow", "forbid", "should not"):
        return Finding("labels", decline="restricting labels is not supported yet; only requiring them is")
    if t.has("template"):
        return Finding("labels", decline="asks for labels on a pod template; only labels on the objects themselves "
                       "or on Pods are supported")
    keys = _label_keys(ctx)
    if not keys:
        return Finding("labels", decline="asks for labels but names no label key (quote it, e.g. `team`)")
    present = " && ".join(f"{cel_string(k)} in meta.labels" for k in keys)
    names = ", ".join(keys)
    description = f"Must carry the label(s) {names}"
    message = f"The label(s) {names} are required."
    good_labels = {k: "value" for k in keys}
    bad_labels = {k: "value" for k in keys[:-1]}
    pod_targets = ctx.pod_targets()
    uses_pod_template = not ctx.named or any(k.kind == "Pod" for k in ctx.named)
    if uses_pod_template and pod_targets is not None and ctx.mentions_pods():
        spec = {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}]}
        rule = Rule(
            id="require-labels", description=description, targets=pod_targets,
            variables=[POD_METADATA],
            validations=[Validation(expression=_labels_check("variables.podMetadata", present), message=message)],
            samples=pod_samples("require-labels", spec, "allow", "good", pod_targets, good_labels)
            + pod_samples("require-labels", spec, "deny", "bad", pod_targets, bad_labels),
            fields_read={"pod-metadata": ["labels"]},
        )
        return Finding("labels", rules=[rule])
    # Kinds the text describes count too ("Azure PostgreSQL servers" found by the capability index).
    kinds = list(ctx.named) or ctx.described()
    if not kinds:
        return Finding("labels", decline="requires labels but does not say on which kinds")
    samples: list[Sample] = []
    for kind in kinds:
        samples.append(Sample(resource=_sample_object(kind, "good-labels", good_labels), expect="allow"))
        samples.append(Sample(resource=_sample_object(kind, "bad-labels", bad_labels), expect="deny"))
    rule = Rule(
        id="require-labels", description=description, targets=kinds,
        validations=[Validation(expression=_labels_check("object.metadata", present), message=message)],
        samples=samples, fields_read={"object": ["metadata.labels"]},
    )
    return Finding("labels", rules=[rule])


def _labels_check(meta: str, present: str) -> str:
    return f"has({meta}.labels) && " + present.replace("meta.labels", f"{meta}.labels")


_SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


def min_replicas(ctx: Context) -> Finding | None:
    t = ctx.text
    m = t.matches(r"(at least|a minimum of|minimum of|min\.?|more than|no fewer than|not less than|>=)\s+"
                  r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+replicas?")
    if not m or not t.has("replica"):
        return None
    number = t.integers_after(m.group(1).replace(".", r"\."))[0]
    bound = number + 1 if m.group(1) == "more than" else number
    named = [k for k in ctx.named if k.kind in _SCALABLE]
    if ctx.named and not named:
        return Finding("replicas", decline="asks for replicas on kinds that have no spec.replicas")
    catalog_kinds = [ctx.catalog.by_kind(k) for k in ("Deployment", "StatefulSet")]
    targets = named or [k for k in catalog_kinds if k is not None]
    samples: list[Sample] = []
    for kind in targets:
        for replicas, expect in ((bound, "allow"), (max(bound - 1, 0), "deny")):  # type: Verdict
            obj = _sample_object(kind, f"{expect}-replicas", {"app": "web"})
            obj["spec"] = {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
            samples.append(Sample(resource=obj, expect=expect))
    rule = Rule(
        id="min-replicas", description=f"Must run at least {bound} replicas", targets=targets,
        validations=[Validation(
            expression=f"(has(object.spec.replicas) ? object.spec.replicas : 1) >= {bound}",
            message=f"At least {bound} replicas are required.")],
        samples=samples, fields_read={"object": ["spec.replicas"]},
    )
    return Finding("replicas", rules=[rule])
