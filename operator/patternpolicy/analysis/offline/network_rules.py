"""Detectors for Services and Ingresses: types, external IPs, hosts, TLS, default backends."""

from __future__ import annotations

import re
from typing import Any

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.object_builder import object_finding
from patternpolicy.analysis.offline.text import cel_string

_TYPES = {"nodeport": "NodePort", "loadbalancer": "LoadBalancer", "externalname": "ExternalName"}
_PORTS = {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "web"}}


def service_type(ctx: Context) -> Finding | None:
    t = ctx.text
    squashed = t.lower.replace(" ", "").replace("-", "")
    named = [v for k, v in _TYPES.items() if k in squashed]
    if len(named) != 1 or not t.negated() or not t.has("service"):
        return None
    kind = named[0]
    if kind == "ExternalName":
        if not t.has("localhost"):
            return None
        return object_finding(
            ctx, "service-type", ["Service"], "no-localhost-externalname",
            "ExternalName Services must not point to localhost",
            "!has(object.spec.type) || object.spec.type != 'ExternalName' || !has(object.spec.externalName) || "
            "!(object.spec.externalName == 'localhost' || object.spec.externalName.startsWith('localhost.') || "
            "object.spec.externalName.startsWith('127.'))",
            "An ExternalName Service must not point to localhost.",
            good=[{"spec": {"type": "ExternalName", "externalName": "db.example.com"}}, {"spec": {**_PORTS}}],
            bad=[{"spec": {"type": "ExternalName", "externalName": "localhost"}}], fields=["spec.externalName"])
    return object_finding(
        ctx, "service-type", ["Service"], f"no-{kind.lower()}-services", f"Services must not be of type {kind}",
        f"!has(object.spec.type) || object.spec.type != '{kind}'", f"Services of type {kind} are not allowed.",
        good=[{"spec": {**_PORTS}}, {"spec": {"type": "ClusterIP", **_PORTS}}],
        bad=[{"spec": {"type": kind, **_PORTS}}], fields=["spec.type"])


def external_ips(ctx: Context) -> Finding | None:
    t = ctx.text
    if "externalips" not in t.lower.replace(" ", "") or not (t.negated() or t.has("not set")):
        return None
    if t.matches(r"\b\d{1,3}(\.\d{1,3}){3}\b"):
        return Finding("external-ips", decline="lists allowed external IPs; only forbidding them is supported")
    return object_finding(
        ctx, "external-ips", ["Service"], "no-external-ips", "Services must not set externalIPs",
        "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
        "Service externalIPs are not allowed.",
        good=[{"spec": {**_PORTS}}], bad=[{"spec": {**_PORTS, "externalIPs": ["203.0.113.7"]}}],
        fields=["spec.externalIPs"])


def _ingress(host: str | None = "app.example.com", **extra: Any) -> dict[str, Any]:
    rule: dict[str, object] = {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": "web", "port": {"number": 80}}}}]}}
    if host is not None:
        rule["host"] = host
    return {"spec": {"rules": [rule], **extra}}


def ingress_hosts(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("ingress") or not t.has("host"):
        return None
    if t.has("wildcard") and (t.negated() or t.has("does not contain", "not contain")):
        return object_finding(
            ctx, "ingress-hosts", ["Ingress"], "no-wildcard-hosts", "Ingress hosts must not use wildcards",
            "!has(object.spec.rules) || object.spec.rules.all(r, !has(r.host) || !r.host.contains('*'))",
            "Ingress hosts must not contain a wildcard.",
            good=[_ingress()], bad=[_ingress("*.example.com")], fields=["spec.rules.host"])
    if t.matches(r"(actual|non-?empty|define a|defined|must have|must set|specify a)\s[^.]*host ?name|"
                 r"host ?name for each rule|each rule[^.]*host"):
        return object_finding(
            ctx, "ingress-hosts", ["Ingress"], "require-hosts", "Every Ingress rule must name a host",
            "has(object.spec.rules) && object.spec.rules.all(r, has(r.host) && r.host != '')",
            "Every Ingress rule must define a host.",
            good=[_ingress()], bad=[_ingress(None)], fields=["spec.rules.host"])
    return None


def ingress_default_backend(ctx: Context) -> Finding | None:
    t = ctx.text
    if "defaultbackend" not in t.lower.replace(" ", "") or not t.has("ingress") or not t.negated():
        return None
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    return object_finding(
        ctx, "ingress-default-backend", ["Ingress"], "no-default-backend", "Ingresses must not set defaultBackend",
        "!has(object.spec.defaultBackend)", "spec.defaultBackend is not allowed; use explicit rules.",
        good=[_ingress()], bad=[{"spec": {"defaultBackend": backend}}], fields=["spec.defaultBackend"])


_ANNOTATION_VALUE = re.compile(r"annotation\s+`([^`]+)`\s+(?:is\s+)?(?:set\s+)?to\s+[`\"']*([\w.-]+)")


def ingress_tls(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("ingress") or not t.matches(r"\btls\b|https"):
        return None
    if not (t.required() or t.negated()):
        return None
    checks = ["has(object.spec.tls) && size(object.spec.tls) > 0"]
    good_meta: dict[str, object] = {}
    annotation = _ANNOTATION_VALUE.search(t.raw)
    if annotation:
        key, value = annotation.group(1), annotation.group(2).strip("`\"'")
        k, v = cel_string(key), cel_string(value)
        checks.append(f"has(object.metadata.annotations) && {k} in object.metadata.annotations && "
                      f"object.metadata.annotations[{k}] == {v}")
        good_meta = {"annotations": {key: value}}
    elif t.has("annotation"):
        return Finding("ingress-tls", decline="mentions an annotation but not its key and value in backticks")
    tls = [{"hosts": ["app.example.com"], "secretName": "app-tls"}]
    good = {**_ingress(tls=tls), "metadata": good_meta}
    bad = [_ingress()] + ([_ingress(tls=tls)] if good_meta else [])
    return object_finding(
        ctx, "ingress-tls", ["Ingress"], "require-tls", "Ingresses must serve HTTPS only",
        " && ".join(checks), "Ingresses must configure TLS" + (" and the required annotation." if good_meta else "."),
        good=[good], bad=bad, fields=["spec.tls", "metadata.annotations"])


DETECTORS = (service_type, external_ips, ingress_hosts, ingress_default_backend, ingress_tls)
