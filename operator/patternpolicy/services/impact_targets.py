"""Which resources a proposal's policies govern, for listing their existing objects (pure).

ValidatingPolicy and ValidatingAdmissionPolicy name group/version/resource in `matchConstraints`;
a Kyverno ClusterPolicy names kinds in each rule's `match` (`Pod`, `v1/Pod`, `apps/v1/Deployment`),
which the cluster's catalog of served kinds maps to resources. Only kinds a rule matches are listed;
the engine still decides each object (names, label selectors and complex excludes are its business),
so a target here is at most wider than what the engine matches, never narrower.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from patternpolicy.compile.scope import NAMESPACE_NAME_LABEL
from patternpolicy.models.rules import KindRef

LIST_LIMIT = 500  # per kind: enough to judge impact, bounded for big clusters
Selector = dict[str, Any]
# A ClusterPolicy resource filter's fields that narrow it beyond kinds and namespaces.
_NARROWING = ("names", "name", "selector", "annotations", "operations")


@dataclass(frozen=True)
class Target:
    """One group/version/resource a policy matches."""

    group: str
    version: str
    plural: str

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def path(self) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{base}/{self.plural}?limit={LIST_LIMIT}"


@dataclass(frozen=True)
class Targets:
    """Resources with the namespace selectors that go with them, and kinds no served resource answers to."""

    found: dict[Target, list[Selector]]
    unserved: tuple[str, ...] = ()


def targets(policies: list[dict[str, Any]], kinds: Sequence[KindRef] = ()) -> Targets:
    """Resources the policies match; `kinds`: the kinds the cluster serves, for ClusterPolicy kind names."""
    found: dict[Target, list[Selector]] = defaultdict(list)
    unserved: list[str] = []
    for policy in policies:
        spec = policy.get("spec") or {}
        if policy.get("kind") == "ClusterPolicy":
            for rule in spec.get("rules") or []:
                for target, selector in _rule_targets(rule, kinds, unserved):
                    found[target].append(selector)
            continue
        match = spec.get("matchConstraints") or {}
        selector = match.get("namespaceSelector") or {}
        for resource_rule in match.get("resourceRules") or []:
            for group in resource_rule.get("apiGroups") or []:
                for version in resource_rule.get("apiVersions") or []:
                    for plural in resource_rule.get("resources") or []:
                        found[Target(group, version, plural)].append(selector)
    return Targets(dict(found), tuple(dict.fromkeys(unserved)))


def in_scope(namespace: str, selector: Selector) -> bool:
    """Whether a namespace passes the selector's conditions on its name (the label every namespace has);
    Kyverno's namespace lists may hold wildcards, which label values never do."""
    for expr in selector.get("matchExpressions") or []:
        if expr.get("key") != NAMESPACE_NAME_LABEL:
            continue
        named = any(fnmatch.fnmatchcase(namespace, str(v)) for v in expr.get("values") or [])
        if (expr.get("operator") == "In" and not named) or (expr.get("operator") == "NotIn" and named):
            return False
    return True


def parse_kind(text: str) -> tuple[str | None, str | None, str, str]:
    """A Kyverno kind selector -> (group, version, Kind, subresource); None: any group or version.

    `Pod`, `Pod/exec`, `v1/Pod`, `v1/Pod/exec`, `apps/v1/Deployment`, `apps/v1/Deployment/scale`."""
    parts = text.split("/")
    if len(parts) == 2:
        return (None, None, parts[0], parts[1]) if parts[0][:1].isupper() else (None, parts[0], parts[1], "")
    if len(parts) == 3:
        if parts[1][:1].isupper():
            return None, parts[0], parts[1], parts[2]
        return parts[0], parts[1], parts[2], ""
    if len(parts) == 4:
        return parts[0], parts[1], parts[2], parts[3]
    return None, None, text, ""


def resolve_kind(text: str, kinds: Sequence[KindRef]) -> list[Target] | None:
    """The served resources a kind selector names (a subresource or a wildcard as given, which is never
    listed); None when the cluster serves no such kind."""
    group, version, kind, subresource = parse_kind(text)
    if any(ch in text for ch in "*?"):
        return [Target(group or "*", version or "*", f"{kind}/{subresource}" if subresource else kind)]
    matched = [k for k in kinds if k.kind == kind and group in (None, k.group) and version in (None, k.version)]
    if not matched:
        return None
    return [Target(k.group, k.version, f"{k.plural}/{subresource}" if subresource else k.plural) for k in matched]


def _filters(block: dict[str, Any] | None) -> tuple[list[dict[str, Any]], bool]:
    """A match or exclude block's resource filters, and whether all of them must hold (`all`)."""
    block = block or {}
    if block.get("all"):
        return [f.get("resources") or {} for f in block["all"]], True
    if block.get("any"):
        return [f.get("resources") or {} for f in block["any"]], False
    return ([block["resources"]], False) if block.get("resources") else ([], False)


def _scope(resources: Iterable[dict[str, Any]]) -> Selector:
    """One namespace selector that every filter's namespaces and namespaceSelector hold in."""
    expressions: list[dict[str, Any]] = []
    labels: dict[str, Any] = {}
    for res in resources:
        selector = res.get("namespaceSelector") or {}
        expressions += selector.get("matchExpressions") or []
        labels.update(selector.get("matchLabels") or {})
        if res.get("namespaces"):
            expressions.append({"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": list(res["namespaces"])})
    return {**({"matchLabels": labels} if labels else {}), "matchExpressions": expressions}


def _simple_excludes(rule: dict[str, Any]) -> tuple[set[str], list[str]]:
    """Kinds an exclude drops wholesale, and namespaces it drops for every kind (other excludes: the engine's)."""
    filters, every = _filters(rule.get("exclude"))
    kinds: set[str] = set()
    namespaces: list[str] = []
    if every and len(filters) > 1:
        return kinds, namespaces  # a conjunction excludes less than any part: left to the engine
    for res in filters:
        if any(res.get(k) for k in (*_NARROWING, "namespaceSelector")):
            continue
        if res.get("kinds") and not res.get("namespaces"):
            kinds.update(res["kinds"])
        elif res.get("namespaces") and not res.get("kinds"):
            namespaces += res["namespaces"]
    return kinds, namespaces


def _rule_targets(rule: dict[str, Any], kinds: Sequence[KindRef],
                  unserved: list[str]) -> list[tuple[Target, Selector]]:
    filters, every = _filters(rule.get("match"))
    if every:
        named = [set(f["kinds"]) for f in filters if f.get("kinds")]
        alternatives = [(sorted(set.intersection(*named)) if named else [], _scope(filters))]
    else:
        alternatives = [(list(f.get("kinds") or []), _scope([f])) for f in filters]
    dropped, excluded_namespaces = _simple_excludes(rule)
    found: list[tuple[Target, Selector]] = []
    for kind_names, selector in alternatives:
        if excluded_namespaces:
            selector = {**selector, "matchExpressions": [
                *selector["matchExpressions"],
                {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": excluded_namespaces}]}
        for text in kind_names:
            if text in dropped:
                continue
            resolved = resolve_kind(text, kinds)
            if resolved is None:
                unserved.append(text)
            else:
                found += [(t, selector) for t in resolved]
    return found
