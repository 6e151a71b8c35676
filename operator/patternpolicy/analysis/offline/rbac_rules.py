"""Detectors for RBAC and service accounts: powerful bindings, risky resources, token automount."""

from __future__ import annotations

import re

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.object_builder import object_finding
from patternpolicy.analysis.offline.text import cel_string

RBAC = "rbac.authorization.k8s.io"
_BINDINGS = ["RoleBinding", "ClusterRoleBinding"]


def _binding(role: str, subject: str, kind: str = "Group") -> dict[str, object]:
    return {"roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": RBAC, "kind": kind, "name": subject}]}


def binding_to_role(ctx: Context) -> Finding | None:
    t = ctx.text
    m = t.matches(r"\bbind\w*[^.]*\b(cluster-admin)\b|\b(cluster-admin)\b[^.]*\bbind")
    if not m or not t.negated():
        return None
    return object_finding(
        ctx, "binding-role", _BINDINGS, "no-cluster-admin-bindings", "Bindings must not grant cluster-admin",
        "object.roleRef.name != 'cluster-admin'",
        "Binding to the cluster-admin ClusterRole is not allowed.",
        good=[_binding("view", "dev-team")], bad=[_binding("cluster-admin", "dev-team")], fields=["roleRef.name"],
        related=("ClusterRole", "Role"))


def binding_to_groups(ctx: Context) -> Finding | None:
    t = ctx.text
    groups = sorted(set(re.findall(r"\bsystem:[a-z][a-z0-9:-]*[a-z0-9]", t.lower)))
    if not groups or not t.has("binding") or not t.negated():
        return None
    names = "[" + ", ".join(cel_string(g) for g in groups) + "]"
    return object_finding(
        ctx, "binding-groups", _BINDINGS, "no-system-group-bindings",
        f"Bindings must not name the groups {', '.join(groups)}",
        f"!has(object.subjects) || object.subjects.all(s, !(s.name in {names}))",
        f"Binding to {', '.join(groups)} is not allowed.",
        good=[_binding("view", "dev-team")], bad=[_binding("view", g) for g in groups], fields=["subjects.name"],
        related=("ClusterRole", "Role"))


def role_resources(ctx: Context) -> Finding | None:
    t = ctx.text
    resources = sorted(set(re.findall(r"\b[a-z]+/(?:proxy|exec|attach|portforward|token|approval)\b", t.lower)))
    if not resources or not t.has("role") or not t.negated():
        return None
    names = "[" + ", ".join(cel_string(r) for r in resources) + "]"
    kinds = ["ClusterRole"] if t.has("clusterrole", "cluster role") else ["Role", "ClusterRole"]
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
    return object_finding(
        ctx, "role-resources", kinds, "restrict-role-resources",
        f"Roles must not grant access to {', '.join(resources)}",
        f"!has(object.rules) || object.rules.all(r, !has(r.resources) || !r.resources.exists(x, x in {names}))",
        f"Granting access to {', '.join(resources)} is not allowed.",
        good=[{"rules": [rule]}],
        bad=[{"rules": [rule, {"apiGroups": [""], "resources": [resources[0]], "verbs": ["get"]}]}],
        fields=["rules.resources"])


def service_account_automount(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"(auto-?mount\w*|mounting)[^.]*service ?accounts? tokens?[^.]*(blocked|disabled|false|"
                     r"prevented|not allowed)|service ?accounts? (must|should)[^.]*automount"):
        return None
    # The same words fit a Pod-level rule ("mounting of the tokens is blocked"): the text must say the
    # ServiceAccount is where the mount is switched off.
    if not t.matches(r"\bin (?:each |every |a |the )?service ?accounts?\b|service ?accounts? (?:must|should)|"
                     r"service ?accounts? (?:set|sets|setting)\b|on service ?accounts?\b"):
        return Finding("sa-automount", decline="says token mounting is blocked but not whether on ServiceAccounts "
                       "or on Pods")
    return object_finding(
        ctx, "sa-automount", ["ServiceAccount"], "no-token-automount",
        "ServiceAccounts must set automountServiceAccountToken: false",
        "has(object.automountServiceAccountToken) && object.automountServiceAccountToken == false",
        "automountServiceAccountToken must be false.",
        good=[{"automountServiceAccountToken": False}], bad=[{}, {"automountServiceAccountToken": True}],
        fields=["automountServiceAccountToken"])


DETECTORS = (binding_to_role, binding_to_groups, role_resources, service_account_automount)
