"""Impact: which existing objects a proposal would deny if it were enforced now."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from patternpolicy.adapters.kube import KubeError, get_json
from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, evaluate
from patternpolicy.compile.scope import NAMESPACE_NAME_LABEL

LIST_LIMIT = 500  # per kind: enough to judge impact, bounded for big clusters
SHOWN = 20


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


def existing_objects(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for policy in policies:
        match = (policy.get("spec") or {}).get("matchConstraints") or {}
        selector = match.get("namespaceSelector") or {}
        for rule in match.get("resourceRules") or []:
            for group in rule.get("apiGroups") or []:
                for version in rule.get("apiVersions") or []:
                    for plural in rule.get("resources") or []:
                        base = f"/apis/{group}/{version}" if group else f"/api/{version}"
                        listing = get_json(f"{base}/{plural}?limit={LIST_LIMIT}")
                        api_version = f"{group}/{version}" if group else version
                        kind = listing.get("kind", "").removesuffix("List")
                        for item in listing.get("items") or []:
                            meta = item.get("metadata") or {}
                            namespace = meta.get("namespace", "")
                            if namespace and not _in_scope(namespace, selector):
                                continue
                            meta.pop("managedFields", None)
                            item = {**item, "apiVersion": api_version, "kind": kind}
                            objects[(api_version, kind, namespace, meta.get("name", ""))] = item
    return list(objects.values())


def impact(policies: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        objects = existing_objects(policies)
    except KubeError as exc:
        return {"result": "Skipped", "detail": f"cannot list existing objects: {exc}"}
    if not objects:
        return {"result": "Passed", "detail": "no existing objects of the target kinds", "wouldDeny": 0}
    with tempfile.TemporaryDirectory(prefix="patternpolicy-impact-") as tmp:
        policy_file, resource_file = Path(tmp) / "policies.yaml", Path(tmp) / "objects.yaml"
        policy_file.write_text(yaml.safe_dump_all(policies))
        resource_file.write_text(yaml.safe_dump_all(objects))
        try:
            verdicts = evaluate([policy_file], [resource_file])
        except KyvernoNotFound as exc:
            return {"result": "Skipped", "detail": str(exc)}
        except RuntimeError as exc:
            return {"result": "Skipped", "detail": f"the engine could not evaluate existing objects: {exc}"}
    denied = sorted(key for key, verdict in verdicts.items() if verdict == "deny")
    shown = ", ".join(denied[:SHOWN]) + (f" and {len(denied) - SHOWN} more" if len(denied) > SHOWN else "")
    detail = (f"{len(denied)} of {len(objects)} existing object(s) would be denied: {shown}" if denied
              else f"none of {len(objects)} existing object(s) would be denied")
    return {"result": "Passed", "detail": detail, "wouldDeny": len(denied), "checked": len(objects),
            "objects": denied[:SHOWN]}
