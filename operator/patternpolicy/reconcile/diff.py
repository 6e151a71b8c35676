"""Readable differences between what is applied and what a proposal would apply."""

from __future__ import annotations

import difflib
from typing import Any

from patternpolicy.yamlio import dump

MAX_STATUS_DIFF = 16000


def _documents(policies: list[dict[str, Any]]) -> dict[str, str]:
    """name -> YAML without the fields that change on every generation (labels with the generation)."""
    out = {}
    for policy in policies:
        shown = {k: v for k, v in policy.items() if k != "status"}
        meta = dict(shown.get("metadata") or {})
        meta.pop("ownerReferences", None)
        shown["metadata"] = meta
        out[meta.get("name", "?")] = dump(shown, sort_keys=True)
    return out


def policy_diff(applied: list[dict[str, Any]], proposed: list[dict[str, Any]],
                applied_label: str = "applied", proposed_label: str = "proposed") -> str:
    """A unified diff per policy; empty when the proposal changes nothing."""
    old, new = _documents(applied), _documents(proposed)
    chunks = []
    for name in sorted(set(old) | set(new)):
        lines = list(difflib.unified_diff(
            old.get(name, "").splitlines(keepends=True), new.get(name, "").splitlines(keepends=True),
            fromfile=f"{applied_label}/{name}" if name in old else "/dev/null",
            tofile=f"{proposed_label}/{name}" if name in new else "/dev/null"))
        chunks.append("".join(lines))
    return "".join(chunks)


def summarize(diff: str) -> str:
    if not diff:
        return "no change against what is applied"
    added = sum(1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    return f"+{added} -{removed} lines against what is applied"
