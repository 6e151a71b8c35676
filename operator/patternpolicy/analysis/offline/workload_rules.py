"""Detectors for container-level intents: privileged mode, image tags, resources."""

from __future__ import annotations

import re

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.podspec import POD_VARIABLES, container, pod_samples
from patternpolicy.models.rules import Rule, Validation

_NOT_POD_KINDS = "names kinds that have no containers ({kinds}); a container rule cannot govern them"


def _pod_rule(ctx: Context, intent: str, rule_id: str, description: str, expression: str,
              message: str, good: list[dict[str, object]], bad: list[dict[str, object]],
              fields: list[str]) -> Finding:
    targets = ctx.pod_targets()
    if targets is None:
        return Finding(intent, decline=_NOT_POD_KINDS.format(kinds=", ".join(map(str, ctx.named))))
    samples = []
    for i, spec in enumerate(good):
        samples += pod_samples(rule_id, spec, "allow", f"good{i}")
    for i, spec in enumerate(bad):
        samples += pod_samples(rule_id, spec, "deny", f"bad{i}")
    rule = Rule(
        id=rule_id, description=description, targets=targets, variables=POD_VARIABLES,
        validations=[Validation(expression=expression, message=message)], samples=samples,
        fields_read={"containers": fields},
    )
    return Finding(intent, rules=[rule])


def privileged(ctx: Context) -> Finding | None:
    t = ctx.text
    if not re.search(r"\bprivileged\b", t.lower) or not t.negated():
        return None
    if t.has("escalation") and not t.has("privileged container", "privileged mode", "privileged pod"):
        return None
    return _pod_rule(
        ctx, "privileged", "no-privileged",
        "Containers must not run in privileged mode",
        "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged)"
        " || c.securityContext.privileged == false)",
        "Privileged mode is not allowed: set securityContext.privileged to false or leave it unset.",
        good=[{"containers": [container()]},
              {"containers": [container(securityContext={"privileged": False})]}],
        bad=[{"containers": [container(securityContext={"privileged": True})]},
             {"containers": [container()],
              "initContainers": [container("init", securityContext={"privileged": True})]}],
        fields=["securityContext.privileged"],
    )


_TAGGED = ("c.image.contains('@') || (c.image.substring(c.image.lastIndexOf('/') + 1).contains(':')"
           " && !c.image.endsWith(':latest'))")


def latest_tag(ctx: Context) -> Finding | None:
    t = ctx.text
    if not (t.has("latest") and t.has("tag", "image")) or not (t.negated() or t.required()):
        return None
    return _pod_rule(
        ctx, "latest-tag", "no-latest-tag",
        "Container images must name a tag other than latest (or a digest)",
        f"variables.containers.all(c, {_TAGGED})",
        "Images must use an immutable tag or digest; ':latest' and untagged images are not allowed.",
        good=[{"containers": [container(image="nginx:1.27.1")]},
              {"containers": [container(image="registry.local:5000/team/app@sha256:" + "a" * 64)]}],
        bad=[{"containers": [container(image="nginx:latest")]},
             {"containers": [container(image="registry.local:5000/team/app")]}],
        fields=["image"],
    )


def resources(ctx: Context) -> Finding | None:
    t = ctx.text
    wants_limits = bool(t.matches(r"\blimits?\b"))
    wants_requests = bool(t.matches(r"\brequests?\b")) and t.has("cpu", "memory", "resource")
    if not (wants_limits or wants_requests) or not t.has("cpu", "memory", "resource"):
        return None
    if not t.required() or t.has("must not", "should not", "disallow"):
        return Finding("resources", decline="mentions resource limits but not as a requirement to set them")
    names = [n for n in ("cpu", "memory") if t.has(n)] or ["cpu", "memory"]
    kinds = (["limits"] if wants_limits else []) + (["requests"] if wants_requests else [])
    checks = [
        f"has(c.resources) && has(c.resources.{kind}) && '{name}' in c.resources.{kind}"
        for kind in kinds for name in names
    ]
    full = {kind: {name: "500m" if name == "cpu" else "256Mi" for name in names} for kind in kinds}
    partial = {kind: dict(list(values.items())[:-1]) for kind, values in full.items()}
    what = " and ".join(f"{'/'.join(names)} {kind}" for kind in kinds)
    return _pod_rule(
        ctx, "resources", "require-" + "-".join(kinds),
        f"Every container must set {what}",
        "variables.containers.all(c, " + " && ".join(checks) + ")",
        f"Every container must set {what}.",
        good=[{"containers": [container(resources=full)]}],
        bad=[{"containers": [container()]}, {"containers": [container(resources=partial)]}]
        if any(partial.values()) else [{"containers": [container()]}],
        fields=[f"resources.{kind}" for kind in kinds],
    )
