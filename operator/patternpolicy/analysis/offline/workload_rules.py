"""Detectors for container-level intents: privileged mode, image tags, resources."""

from __future__ import annotations

import re

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.pod_rules import PodCheck, pod_finding
from patternpolicy.analysis.podspec import container


def privileged(ctx: Context) -> Finding | None:
    t = ctx.text
    if not re.search(r"\bprivileged\b", t.lower) or not t.negated():
        return None
    if t.has("escalation") and not t.has("privileged container", "privileged mode", "privileged pod"):
        return None
    return pod_finding(ctx, "privileged", PodCheck(
        "no-privileged",
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
    ))


_TAGGED = ("c.image.contains('@') || (c.image.substring(c.image.lastIndexOf('/') + 1).contains(':')"
           " && !c.image.endsWith(':latest'))")


def latest_tag(ctx: Context) -> Finding | None:
    t = ctx.text
    if not (t.has("latest") and t.has("tag", "image")) or not (t.negated() or t.required()):
        return None
    return pod_finding(ctx, "latest-tag", PodCheck(
        "no-latest-tag",
        "Container images must name a tag other than latest (or a digest)",
        f"variables.containers.all(c, {_TAGGED})",
        "Images must use an immutable tag or digest; ':latest' and untagged images are not allowed.",
        good=[{"containers": [container(image="nginx:1.27.1")]},
              {"containers": [container(image="registry.local:5000/team/app@sha256:" + "a" * 64)]}],
        bad=[{"containers": [container(image="nginx:latest")]},
             {"containers": [container(image="registry.local:5000/team/app")]}],
        fields=["image"],
    ))


_PER_KIND = re.compile(r"((?:cpu|memory)(?:\s*(?:and|,|&|/)\s*(?:cpu|memory))*)\s+(request|limit)s?\b")


def _wanted_resources(t_lower: str, kinds: list[str]) -> dict[str, list[str]]:
    """{'limits': ['memory'], 'requests': ['cpu', 'memory']} from "CPU and memory requests and memory limits"."""
    explicit: dict[str, set[str]] = {}
    for m in _PER_KIND.finditer(t_lower):
        explicit.setdefault(m.group(2) + "s", set()).update(re.findall(r"cpu|memory", m.group(1)))
    general = [n for n in ("cpu", "memory") if n in t_lower] or ["cpu", "memory"]
    return {kind: sorted(explicit.get(kind) or general) for kind in kinds}


def resources(ctx: Context) -> Finding | None:
    t = ctx.text
    wants_limits = bool(t.matches(r"\blimits?\b"))
    wants_requests = bool(t.matches(r"\brequests?\b")) and t.has("cpu", "memory", "resource")
    if not (wants_limits or wants_requests) or not (t.has("cpu", "memory") or t.matches(r"resource (request|limit)")):
        return None
    if not t.required() or t.has("must not", "should not", "disallow"):
        return Finding("resources", decline="mentions resource limits but not as a requirement to set them")
    if t.matches(r"\beither\b[^.]*\b(requests?|limits?)\b|at least one container"):
        return Finding("resources", decline="asks for requests or limits in an either/or way, not for both")
    kinds = (["limits"] if wants_limits else []) + (["requests"] if wants_requests else [])
    wanted = _wanted_resources(t.lower, kinds)
    checks = [
        f"has(c.resources) && has(c.resources.{kind}) && '{name}' in c.resources.{kind}"
        for kind in kinds for name in wanted[kind]
    ]
    full = {kind: {name: "500m" if name == "cpu" else "256Mi" for name in wanted[kind]} for kind in kinds}
    partial = {kind: dict(list(values.items())[:-1]) for kind, values in full.items()}
    what = " and ".join(f"{'/'.join(wanted[kind])} {kind}" for kind in kinds)
    return pod_finding(ctx, "resources", PodCheck(
        "require-" + "-".join(kinds),
        f"Every container must set {what}",
        "variables.containers.all(c, " + " && ".join(checks) + ")",
        f"Every container must set {what}.",
        good=[{"containers": [container(resources=full)]}],
        bad=[{"containers": [container()]}, {"containers": [container(resources=partial)]}]
        if any(partial.values()) else [{"containers": [container()]}],
        fields=[f"resources.{kind}" for kind in kinds],
    ))
