"""What the cluster says about a pattern's namespace scope: namespaces named in `include` that do not exist.

Not an error: a namespace may well be created after its policy. But a policy scoped only to namespaces
that do not exist governs nothing, and the pattern's status says so. Checked only when the operator may
read namespaces (the optional impact reader role grants it; docs/security.md): otherwise nothing is said.
"""

from __future__ import annotations

from collections.abc import Callable

from patternpolicy.adapters.access import may_list
from patternpolicy.adapters.kube import KubeNotFound, get_json


def _exists(namespace: str) -> bool:
    try:
        get_json(f"/api/v1/namespaces/{namespace}")
    except KubeNotFound:
        return False
    return True


def namespace_notes(include: list[str], may_read: Callable[[str, str], bool] = may_list) -> list[str]:
    """Raises KubeError when the cluster cannot be asked."""
    if not include or not may_read("", "namespaces"):
        return []
    missing = [n for n in include if not _exists(n)]
    if not missing:
        return []
    verb = "does" if len(missing) == 1 else "do"
    return [f"spec.policyGeneration.namespaces.include: {', '.join(missing)} {verb} not exist (yet); the policy "
            "governs nothing there until it is created"]
