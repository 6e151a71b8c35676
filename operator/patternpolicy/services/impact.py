"""Impact: which existing objects a proposal would deny, or only report, if it were in force now.

Least privilege (docs/security.md): the operator lists only kinds an administrator granted it through
the optional impact reader role, asks the apiserver first (SelfSubjectAccessReview) instead of
trying, and never reads Secrets whatever RBAC says. Object contents go to the local Kyverno CLI in a
temporary directory and nowhere else; the proposal's status carries counts and the violating objects'
names (Kind/namespace/name), never their contents.

A failed check denies only under Enforce (services/enforcement.py): objects that fail Audit checks
alone are counted as `wouldReport`, never as `wouldDeny`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from patternpolicy.adapters.access import may_list
from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, failures
from patternpolicy.adapters.workdirs import workdir
from patternpolicy.compile.scope import NAMESPACE_NAME_LABEL
from patternpolicy.discovery.builtin_kinds import builtin_kinds
from patternpolicy.models.rules import KindRef
from patternpolicy.services.enforcement import denies, deny_checks
from patternpolicy.services.impact_targets import Selector, Target, in_scope, targets
from patternpolicy.validate.proof import engine_form
from patternpolicy.yamlio import dump, dump_all

SHOWN = 20
# Kinds whose objects the operator never reads, whatever its RBAC allows.
NEVER_READ = {("", "secrets"): "secret data is not read"}
ROLE_HINT = "grant it through the impact reader role"

MayList = Callable[[str, str], bool]
log = logging.getLogger(__name__)


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


def existing_objects(listable: dict[Target, list[Selector]]) -> list[dict[str, Any]]:
    """Objects of the listable targets in a namespace some policy governs; cluster-scoped ones all."""
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for target, selectors in listable.items():
        listing = get_json(target.path)
        api_version = f"{target.group}/{target.version}" if target.group else target.version
        kind = listing.get("kind", "").removesuffix("List")
        for item in listing.get("items") or []:
            meta = item.get("metadata") or {}
            namespace = meta.get("namespace", "")
            if namespace and not any(in_scope(namespace, s) for s in selectors):
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


def impact(policies: list[dict[str, Any]], allowed: MayList = may_list, kinds: Sequence[KindRef] | None = None,
           in_force: bool = False, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The impact record for the status. `kinds`: the kinds the cluster serves (the built-in ones when not
    given), which ClusterPolicy kind names map to; `in_force`: the policies are applied already, so their
    violators are named as such rather than as what approving would do; `previous`: the record computed
    for the same content, engine and failure action, whose verdicts stand while the objects are unchanged."""
    found = targets(policies, [k for k, _ in builtin_kinds()] if kinds is None else kinds)
    refused = {t: r for t in found.found if (r := refusal(t, allowed)) is not None}
    refused_reasons = [*sorted(set(refused.values())), *(f"kind {k} is not served" for k in found.unserved)]
    not_evaluated = [f"not evaluated: {reason}" for reason in refused_reasons]
    listable = {t: s for t, s in found.found.items() if t not in refused}
    if not listable:
        detail = "; ".join(not_evaluated) or "not evaluated: the policies match no resources that can be listed"
        return {"result": "Skipped", "detail": detail, **_refused(refused, found.unserved)}
    if previous and (previous.get("notEvaluated") or []) != _refused(refused, found.unserved).get("notEvaluated", []):
        previous = None  # what may be listed changed (a role granted, a kind served): judge afresh
    result = _evaluated(policies, listable, in_force, previous)
    if result.pop(_REUSED, False):
        return result  # the previous record, its detail already complete
    if not_evaluated:
        result = {**result, "detail": "; ".join([result["detail"], *not_evaluated]),
                  **_refused(refused, found.unserved)}
    return result


def _refused(refused: dict[Target, str], unserved: Sequence[str]) -> dict[str, list[str]]:
    reasons = sorted(f"{t.name}: {r}" for t, r in refused.items()) + [f"{k}: not served" for k in unserved]
    return {"notEvaluated": reasons} if reasons else {}


def _values(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The CLI's view of the objects' namespaces: their name label, all that generated namespaceSelectors
    read (a ClusterPolicy's selector matches nothing in a namespace the CLI was not told about)."""
    namespaces = sorted({ns for o in objects if (ns := (o.get("metadata") or {}).get("namespace"))})
    return {"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Value", "metadata": {"name": "namespaces"},
            "namespaces": [{"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": ns, "labels": {NAMESPACE_NAME_LABEL: ns}}} for ns in namespaces]}


def _run_engine(policies: list[dict[str, Any]], objects: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    with workdir("impact") as tmp:  # removed at start-up too, should a kill skip the clean-up
        files = [tmp / "policies.yaml", tmp / "objects.yaml", tmp / "values.yaml"]
        files[0].write_text(dump_all(policies))
        files[1].write_text(dump_all(objects))
        files[2].write_text(dump(_values(objects)))
        return failures([files[0]], [files[1]], values_file=files[2])


def fingerprint(objects: list[dict[str, Any]]) -> str:
    """Changes whenever an object is created, changed or deleted (resourceVersion moves on every write)."""
    keys = sorted(f"{o.get('kind')}/{(o.get('metadata') or {}).get('namespace', '')}/"
                  f"{(o.get('metadata') or {}).get('name')}@{(o.get('metadata') or {}).get('resourceVersion')}"
                  for o in objects)
    return "sha256:" + hashlib.sha256("\n".join([JUDGING, *keys]).encode()).hexdigest()


# Part of every fingerprint: a record judged by an earlier way of judging (before VAPs were judged in their
# ValidatingPolicy form, say) is never reused. Raise it when the judging changes.
JUDGING = "judging-2"
_VERDICT_KEYS = ("result", "detail", "wouldDeny", "wouldReport", "checked", "objects", "notEvaluated")
_REUSED = "_reused"


def _evaluated(policies: list[dict[str, Any]], listable: dict[Target, list[Selector]],
               in_force: bool, previous: dict[str, Any] | None) -> dict[str, Any]:
    try:
        objects = existing_objects(listable)
    except KubeError as exc:
        return {"result": "Skipped", "detail": f"cannot list existing objects: {exc}"}
    seen = fingerprint(objects)
    if previous and previous.get("objectsFingerprint") == seen and previous.get("result") == "Passed":
        # Same content and objects as last time: the engine's verdicts stand, it is not run again.
        return {**{k: previous[k] for k in _VERDICT_KEYS if k in previous}, "objectsFingerprint": seen,
                _REUSED: True}
    result = _judged(policies, objects, in_force)
    return {**result, "objectsFingerprint": seen} if result["result"] == "Passed" else result


def _judged(policies: list[dict[str, Any]], objects: list[dict[str, Any]], in_force: bool) -> dict[str, Any]:
    # The CLI judges a ValidatingAdmissionPolicy on no custom kind at all: in its ValidatingPolicy form it does
    # (validate/proof.py), with the binding's validation actions.
    policies, _ = engine_form(policies)
    checks = deny_checks(policies)
    enforcing = any(checks.values())
    if not objects:
        return {"result": "Passed", "detail": "no existing objects of the target kinds", "wouldDeny": 0,
                "wouldReport": 0, "checked": 0}
    try:
        failed = _run_engine(policies, objects)
    except KyvernoNotFound as exc:
        return {"result": "Skipped", "detail": str(exc)}
    except RuntimeError as exc:
        # The engine's output may quote the objects it read: the log has it, the status does not.
        log.warning("impact: the engine could not evaluate existing objects: %s", exc)
        return {"result": "Skipped",
                "detail": "the engine could not evaluate existing objects (the operator's log says why)"}
    names = _names(objects)
    denied = sorted(names.get(k, k) for k, f in failed.items() if any(denies(checks, c) for c in f))
    reported = sorted(names.get(k, k) for k, f in failed.items() if f and not any(denies(checks, c) for c in f))
    return {"result": "Passed", "detail": describe(denied, reported, len(objects), enforcing, in_force),
            "wouldDeny": len(denied), "wouldReport": len(reported), "checked": len(objects),
            "objects": (denied + reported)[:SHOWN]}


def _shown(names: list[str]) -> str:
    return ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def describe(denied: list[str], reported: list[str], checked: int, enforcing: bool, in_force: bool) -> str:
    """The impact in words: denied and reported objects apart, what Audit does said where it matters."""
    audit = "Audit: nothing is denied" if not enforcing else "Audit rules only: not denied"
    if in_force:
        parts = [f"{len(denied)} of {checked} existing object(s) violate the policies in force (their next "
                 f"create or update is denied): {_shown(denied)}"] if denied else []
        if reported:
            parts.append(f"{len(reported)} of {checked} existing object(s) violate the policies in force, which "
                         f"report them ({audit}): {_shown(reported)}")
        return "; ".join(parts) or f"none of {checked} existing object(s) violate the policies in force"
    parts = [f"{len(denied)} of {checked} existing object(s) would be denied: {_shown(denied)}"] if denied else []
    if reported:
        parts.append(f"{len(reported)} of {checked} existing object(s) would be reported ({audit}): "
                     f"{_shown(reported)}")
    if parts:
        return "; ".join(parts)
    if enforcing:
        return f"none of {checked} existing object(s) would be denied"
    return f"none of {checked} existing object(s) would be reported ({audit})"
