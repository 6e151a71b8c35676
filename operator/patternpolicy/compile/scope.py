"""Where a policy applies: namespace selection with protected namespaces kept out."""

from __future__ import annotations

import os
from typing import Any

from patternpolicy.constants import OWN_NAMESPACE_ENV, PROTECTED_NAMESPACES
from patternpolicy.models.pattern import NamespaceScope

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def namespace_selector(scope: NamespaceScope, extra_protected: tuple[str, ...] = ()) -> dict[str, Any]:
    """A namespaceSelector; protected namespaces are excluded unless the pattern includes them by name."""
    expressions: list[dict[str, Any]] = []
    if scope.include:
        expressions.append({"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": sorted(set(scope.include))})
    # The operator's own namespace when it runs elsewhere than the default (`run --namespace`).
    own = tuple(filter(None, [os.environ.get(OWN_NAMESPACE_ENV, "").strip()]))
    protected = [ns for ns in dict.fromkeys((*PROTECTED_NAMESPACES, *own, *extra_protected))
                 if ns not in scope.include]
    excluded = sorted(set(scope.exclude) | set(protected))
    if excluded:
        expressions.append({"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": excluded})
    return {"matchExpressions": expressions}


def sample_namespace(scope: NamespaceScope) -> str:
    """A namespace the policy governs, for sample resources that must be matched."""
    if scope.include:
        return sorted(scope.include)[0]
    return "default" if "default" not in scope.exclude else "patternpolicy-samples"
