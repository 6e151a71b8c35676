"""Detectors for other pod-level intents: probes, registries, scheduling, secrets, namespaces."""

from __future__ import annotations

import re
from typing import Any

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.pod_rules import PodCheck, c, pod_finding
from patternpolicy.analysis.offline.text import cel_string
from patternpolicy.analysis.podspec import pod_samples
from patternpolicy.models.rules import Rule, Sample, Validation

PS = "variables.podSpec"
_DOMAIN = re.compile(r"(?<![\w./-])((?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?)(?![\w-])")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _list(values: list[str]) -> str:
    return "[" + ", ".join(cel_string(v) for v in values) + "]"


def probes(ctx: Context) -> Finding | None:
    t = ctx.text
    named = [p for p in _PROBES if p.lower() in t.lower.replace(" ", "")]
    if not named and not t.has("probe"):
        return None
    if not t.required():
        return None
    if not named:
        named = [p for p in _PROBES if p.lower().removesuffix("probe") in t.lower] or ["livenessProbe",
                                                                                        "readinessProbe"]
    any_of = bool(t.matches(r"\bone of\b|\bany of\b|\beither\b|\bat least one\b")) or " or " in t.lower
    joiner = " || " if any_of else " && "
    check = joiner.join(f"has(c.{p})" for p in named)
    probe: Any = {"tcpSocket": {"port": 8080}, "periodSeconds": 10}
    good = [{"containers": [c(**{p: probe for p in named})]}]
    if any_of:
        good += [{"containers": [c(**{p: probe})]} for p in named]
    return pod_finding(ctx, "probes", PodCheck(
        "require-probes", f"Containers must define {(' or ' if any_of else ' and ').join(named)}",
        f"{PS}.containers.all(c, {check})",
        f"Every container must define {(' or ' if any_of else ' and ').join(named)}.",
        good=good, bad=[{"containers": [c()]}], fields=named))


def _domains(text: str) -> list[str]:
    return list(dict.fromkeys(d for d in _DOMAIN.findall(text) if not d.endswith((".md", ".html", ".yaml"))))


def _registry_prefix_check(domains: list[str]) -> str:
    return " || ".join(f"c.image.startsWith({cel_string(d + '/')})" for d in domains)


def registries(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("registr") or not t.has("image") or t.has("pull secret", "imagepullsecret"):
        return None
    raw = re.sub(r"https?://\S+", " ", t.raw)
    domains = _domains(raw.lower())
    if not domains:
        return None
    allow = bool(t.matches(r"\bonly\b|\bapproved\b|\ballowed\b|\btrusted\b")) and not t.has("deprecated", "frozen")
    deny = t.has("deprecated", "frozen", "legacy", "disallow", "must not", "not allowed") and not allow
    if allow == deny:
        return Finding("registries", decline="mentions registries without saying whether they are allowed or banned")
    if allow:
        return pod_finding(ctx, "registries", PodCheck(
            "allowed-registries", f"Images must come from {', '.join(domains)}",
            f"variables.containers.all(c, {_registry_prefix_check(domains)})",
            f"Images must come from one of: {', '.join(domains)}.",
            good=[{"containers": [c(image=f"{domains[0]}/team/app:1.0")]}],
            bad=[{"containers": [c(image="docker.io/library/nginx:1.27")]}, {"containers": [c(image="nginx")]}],
            fields=["image"]))
    banned = [d for d in domains if t.lower.count(d) >= 1][:1] if t.has("deprecated", "frozen", "legacy") else domains
    return pod_finding(ctx, "registries", PodCheck(
        "banned-registries", f"Images must not come from {', '.join(banned)}",
        f"variables.containers.all(c, !({_registry_prefix_check(banned)}))",
        f"Images from {', '.join(banned)} are not allowed.",
        good=[{"containers": [c(image="registry.example.com/team/app:1.0")]}],
        bad=[{"containers": [c(image=f"{banned[0]}/team/app:1.0")]}], fields=["image"]))


def image_name(ctx: Context) -> Finding | None:
    t = ctx.text
    m = re.search(r"image[^.]*\b(?:containing|contains|named|with the name)[^.`]*`([a-z0-9._-]+)`", t.raw, re.I)
    if not m or (not t.negated() and not t.has("not an image", "no image")):
        return None
    word = m.group(1).lower()
    return pod_finding(ctx, "image-name", PodCheck(
        "banned-image-name", f"Images must not contain '{word}'",
        f"variables.containers.all(c, !c.image.lowerAscii().contains({cel_string(word)}))",
        f"Images containing '{word}' are not allowed.",
        good=[{"containers": [c(image="registry.example.com/team/app:1.0")]}],
        bad=[{"containers": [c(image=f"registry.example.com/{word}:2.0")]}], fields=["image"]))


def default_namespace(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"default[^.]{0,20}namespace|namespace[^.]{0,40}\bdefault\b") or not (
            t.negated() or t.has("other than")):
        return None
    targets = ctx.pod_targets()
    if targets is None:
        return None
    samples = [s.model_copy(update={"resource": {**s.resource, "metadata": {**s.resource["metadata"],
                                                                             "namespace": ns}}})
               for ns, verdict in (("team-a", "allow"), ("default", "deny"))
               for s in pod_samples("no-default-namespace", {"containers": [c()]}, verdict, verdict, targets)]  # type: ignore[arg-type]
    rule = Rule(
        id="no-default-namespace", description="Workloads must not use the default namespace", targets=targets,
        validations=[Validation(
            expression="has(object.metadata.namespace) && object.metadata.namespace != '' && "
                       "object.metadata.namespace != 'default'",
            message="Use a namespace other than default.")],
        samples=samples, fields_read={"object": ["metadata.namespace"]}, namespace_sensitive=True)
    return Finding("default-namespace", rules=[rule])


def node_affinity(ctx: Context) -> Finding | None:
    t = ctx.text
    if "nodeaffinity" not in t.lower.replace(" ", "") or not (t.negated() or t.has("not used", "not be used")):
        return None
    return pod_finding(ctx, "node-affinity", PodCheck(
        "no-node-affinity", "Pods must not use nodeAffinity",
        f"!has({PS}.affinity) || !has({PS}.affinity.nodeAffinity)", "nodeAffinity is not allowed.",
        good=[{"containers": [c()]}],
        bad=[{"containers": [c()], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}}],
        fields=["affinity.nodeAffinity"]))


_CONTROL_PLANE_TAINTS = ["node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane"]


def control_plane_tolerations(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("toleration") or not t.has("control plane", "control-plane", "master") or not t.negated():
        return None
    keys = _list(_CONTROL_PLANE_TAINTS)
    return pod_finding(ctx, "control-plane", PodCheck(
        "no-control-plane-tolerations", "Pods must not tolerate the control plane taints",
        f"!has({PS}.tolerations) || {PS}.tolerations.all(t, !has(t.key) || !(t.key in {keys}))",
        "Tolerating the control-plane taint is not allowed.",
        good=[{"containers": [c()], "tolerations": [{"key": "dedicated", "operator": "Exists"}]}],
        bad=[{"containers": [c()], "tolerations": [{"key": k, "effect": "NoSchedule"}]}
             for k in _CONTROL_PLANE_TAINTS], fields=["tolerations.key"]))


def cri_sockets(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("socket") or not t.has("docker", "containerd", "cri-o", "crio", "cri "):
        return None
    sockets = ["/var/run/docker.sock", "/run/docker.sock", "/var/run/containerd/containerd.sock",
               "/run/containerd/containerd.sock", "/var/run/crio/crio.sock", "/run/crio/crio.sock",
               "/var/run/cri-dockerd.sock"]
    return pod_finding(ctx, "cri-sockets", PodCheck(
        "no-cri-socket-mounts", "Pods must not mount container runtime sockets",
        f"!has({PS}.volumes) || {PS}.volumes.all(v, !has(v.hostPath) || !(v.hostPath.path in {_list(sockets)}))",
        "Mounting the container runtime socket is not allowed.",
        good=[{"containers": [c()], "volumes": [{"name": "data", "hostPath": {"path": "/data"}}]}],
        bad=[{"containers": [c()], "volumes": [{"name": "sock", "hostPath": {"path": s}}]} for s in sockets[::2]],
        fields=["volumes.hostPath.path"]))


def secrets_in_pods(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"(use|usage|consum\w*|mount\w*) of (all )?secrets|disables? [^.]*secrets|no secrets"):
        return None
    if not t.has("pod"):
        return None
    if t.has("environment variable", "env var", "envfrom", "volume"):
        # The rule below forbids every use; a text about one way of consuming Secrets means less.
        return Finding("secrets", decline="restricts one way of consuming Secrets; only forbidding all is supported")
    env = ("!has(c.env) || c.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef))")
    env_from = "!has(c.envFrom) || c.envFrom.all(e, !has(e.secretRef))"
    volumes = f"!has({PS}.volumes) || {PS}.volumes.all(v, !has(v.secret))"
    return pod_finding(ctx, "secrets", PodCheck(
        "no-secrets", "Pods must not consume Secrets",
        f"({volumes}) && variables.containers.all(c, ({env}) && ({env_from}))",
        "Pods may not consume Secrets (env, envFrom or volumes).",
        good=[{"containers": [c(env=[{"name": "MODE", "value": "prod"}])]}],
        bad=[{"containers": [c(envFrom=[{"secretRef": {"name": "creds"}}])]},
             {"containers": [c(env=[{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}])]},
             {"containers": [c()], "volumes": [{"name": "s", "secret": {"secretName": "creds"}}]}],
        fields=["env", "envFrom", "volumes.secret"]))


def env_value(ctx: Context) -> Finding | None:
    m = re.search(r"`([A-Z][A-Z0-9_]+)`\s+environment variable[^.]*must not be set to (?:a value of )?[`\"']+"
                  r"([^`\"']+)[`\"']+", ctx.text.raw)
    if not m:
        return None
    name, value = m.group(1), m.group(2)
    return pod_finding(ctx, "env-value", PodCheck(
        "env-value", f"{name} must not be {value}",
        f"variables.containers.all(c, !has(c.env) || c.env.all(e, e.name != {cel_string(name)} || "
        f"!has(e.value) || e.value != {cel_string(value)}))",
        f"The environment variable {name} must not be set to {value}.",
        good=[{"containers": [c()]}, {"containers": [c(env=[{"name": name, "value": "other"}])]}],
        bad=[{"containers": [c(env=[{"name": name, "value": value}])]}], fields=["env"]))


def bare_pods(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"\bbare\b[^.]*pods?|pods? not (created|managed|owned) by") or not t.negated():
        return None
    pod = ctx.catalog.by_kind("Pod")
    if pod is None or (ctx.named and pod not in ctx.named):
        return None
    bare, owned = (s.resource for s in pod_samples("no-bare-pods", {"containers": [c()]}, "deny", "bare", [pod]) * 2)
    owned = {**owned, "metadata": {**owned["metadata"], "name": "owned-no-bare-pods", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4f", "controller": True,
         "uid": "0b6c4a7e-1111-4c1e-9d1a-000000000001"}]}}
    rule = Rule(
        id="no-bare-pods", description="Pods must be created by a workload controller", targets=[pod],
        validations=[Validation(
            expression="has(object.metadata.ownerReferences) && size(object.metadata.ownerReferences) > 0",
            message="Bare Pods are not allowed; create a Deployment, StatefulSet, Job or other controller.")],
        samples=[Sample(resource=bare, expect="deny"), Sample(resource=owned, expect="allow")],
        fields_read={"object": ["metadata.ownerReferences"]})
    return Finding("bare-pods", rules=[rule])


DETECTORS = (probes, registries, image_name, default_namespace, node_affinity, control_plane_tolerations,
             cri_sockets, secrets_in_pods, env_value, bare_pods)
