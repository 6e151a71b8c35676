"""Scope words in the text ("in production") that the policy's match must honour."""

from __future__ import annotations

import re

from patternpolicy.analysis.offline.context import Context

SCOPE = re.compile(
    r"\bin (?:the )?(production|prod|staging|development|dev|test|(?:[a-z0-9-]+ )?namespaces?\b[^.,;]*)"
)


def unconfigured_scope(ctx: Context) -> str | None:
    """A reason to decline when the text limits where the rule applies but the spec does not say how."""
    scope = ctx.pattern.spec.policy_generation.namespaces
    if scope.include:
        return None
    m = SCOPE.search(ctx.pattern.spec.description.lower())
    if m is None or m.group(1).startswith(("all namespaces", "every namespace", "any namespace")):
        return None
    return (f"the pattern applies only 'in {m.group(1).strip()}', which is not a namespace list; "
            "set spec.policyGeneration.namespaces.include to the namespaces it means")
