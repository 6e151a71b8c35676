"""Impact: which existing objects a proposal would deny if it were enforced now.

Least privilege (docs/security.md): the operator lists only kinds an administrator granted it through
the optional impact reader role, asks the apiserver first (SelfSubjectAccessReview) instead of
trying, and never reads Secrets whatever RBAC says. Object contents go to the local Kyverno CLI in a
temporary directory and nowhere else; the proposal's status carries counts and the denied objects'
names (Kind/namespace/name), never their contents.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from patternpolicy.adapters.access import may_list
from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, evaluate
from patternpolicy.adapters.workdirs import workdir
from patternpolicy.compile.scope import NAMESPACE_NAME_LABEL
from patternpolicy.yamlio import dump_all

LIST_LIMIT = 500  # per kind: enough to judge impact, bounded for big clusters
SHOWN = 20
# Kinds whose objects the operator never reads, whatever its RBAC allows.
NEVER_READ = {("", "secrets"): "secret data is not read"}
ROLE_HINT = "grant it through the impact reader role"

MayList = Callable[[str, str], bool]
log = logging.getLogger(__name__)


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


def targets(policies: list[dict[str, Any]]) -> dict[Target, list[dict[str, Any]]]:
    """Resources the policies match, each with the namespace selectors that go with it."""
    found: dict[Target, list[dict[str, Any]]] = defaultdict(list)
    for policy in policies:
        match = (policy.get("spec") or {}).get("matchConstraints") or {}
        selector = match.get("namespaceSelector") or {}
        for rule in match.get("resourceRules") or []:
            for group in rule.get("apiGroups") or []:
                for version in rule.get("apiVersions") or []:
                    for plural in rule.get("resources") or []:
                        found[Target(group, version, plural)].append(selector)
    return dict(found)


def refusal(target: Target, allowed: MayList) -> str | None:
    """Why the operator will not list this resource, or None when it may."""
    never = NEVER_READ.get((target.group, target.plural.partition("/")[0]))
    if never:
        return never
    if "*" in (target.group, target.version, target.plural) or "/" in target.plural:
        return f"{target.name} is a wildcard or a subresource, which is never listed"
    try:
        if allowed(target.group, target.plural):
            return None
    except KubeError as exc:
        return str(exc)
    return f"the operator may not list {target.name} ({ROLE_HINT})"


def _in_scope(namespace: str, selector: dict[str, Any]) -> bool:
    for expr in selector.get("matchExpressions") or []:
        if expr.get("key") != NAMESPACE_NAME_LABEL:
            continue
        values = expr.get("values") or []
        if expr.get("operator") == "In" and namespace not in values:
            return False
        if expr.get("operator") == "NotIn" and namespace in values:
            return False
    return True


def existing_objects(listable: dict[Target, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Objects of the listable targets in a namespace some policy governs; cluster-scoped ones all."""
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for target, selectors in listable.items():
        listing = get_json(target.path)
        api_version = f"{target.group}/{target.version}" if target.group else target.version
        kind = listing.get("kind", "").removesuffix("List")
        for item in listing.get("items") or []:
            meta = item.get("metadata") or {}
            namespace = meta.get("namespace", "")
            if namespace and not any(_in_scope(namespace, s) for s in selectors):
                continue
            meta.pop("managedFields", None)
            item = {**item, "apiVersion": api_version, "kind": kind}
            objects[(api_version, kind, namespace, meta.get("name", ""))] = item
    return list(objects.values())


def _names(objects: list[dict[str, Any]]) -> dict[str, str]:
    """The engine's key for each object -> its name in the status: `Kind/namespace/name`, or `Kind/name`
    for a cluster-scoped object (which the CLI reports in `default`, where it puts namespace-less objects)."""
    names: dict[str, str] = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        kind, namespace, name = obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")
        if namespace:
            names[f"{kind}/{namespace}/{name}"] = f"{kind}/{namespace}/{name}"
        else:
            names[f"{kind}/default/{name}"] = names[f"{kind}//{name}"] = f"{kind}/{name}"
    return names


def impact(policies: list[dict[str, Any]], allowed: MayList = may_list) -> dict[str, Any]:
    found = targets(policies)
    refused = {t: r for t in found if (r := refusal(t, allowed)) is not None}
    not_evaluated = [f"not evaluated: {reason}" for reason in sorted(set(refused.values()))]
    listable = {t: s for t, s in found.items() if t not in refused}
    if not listable:
        detail = "; ".join(not_evaluated) or "not evaluated: the policies match no resources that can be listed"
        return {"result": "Skipped", "detail": detail, **_refused(refused)}
    result = _evaluated(policies, listable)
    if refused:
        result = {**result, "detail": "; ".join([result["detail"], *not_evaluated]), **_refused(refused)}
    return result


def _refused(refused: dict[Target, str]) -> dict[str, list[str]]:
    return {"notEvaluated": sorted(f"{t.name}: {r}" for t, r in refused.items())} if refused else {}


def _evaluated(policies: list[dict[str, Any]], listable: dict[Target, list[dict[str, Any]]]) -> dict[str, Any]:
    try:
        objects = existing_objects(listable)
    except KubeError as exc:
        return {"result": "Skipped", "detail": f"cannot list existing objects: {exc}"}
    if not objects:
        return {"result": "Passed", "detail": "no existing objects of the target kinds", "wouldDeny": 0, "checked": 0}
    with workdir("impact") as tmp:  # removed at start-up too, should a kill skip the clean-up
        policy_file, resource_file = tmp / "policies.yaml", tmp / "objects.yaml"
        policy_file.write_text(dump_all(policies))
        resource_file.write_text(dump_all(objects))
        try:
            verdicts = evaluate([policy_file], [resource_file])
        except KyvernoNotFound as exc:
            return {"result": "Skipped", "detail": str(exc)}
        except RuntimeError as exc:
            # The engine's output may quote the objects it read: the log has it, the status does not.
            log.warning("impact: the engine could not evaluate existing objects: %s", exc)
            return {"result": "Skipped",
                    "detail": "the engine could not evaluate existing objects (the operator's log says why)"}
    names = _names(objects)
    denied = sorted(names.get(key, key) for key, verdict in verdicts.items() if verdict == "deny")
    shown = ", ".join(denied[:SHOWN]) + (f" and {len(denied) - SHOWN} more" if len(denied) > SHOWN else "")
    detail = (f"{len(denied)} of {len(objects)} existing object(s) would be denied: {shown}" if denied
              else f"none of {len(objects)} existing object(s) would be denied")
    return {"result": "Passed", "detail": detail, "wouldDeny": len(denied), "checked": len(objects),
            "objects": denied[:SHOWN]}
