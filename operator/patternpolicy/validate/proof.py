"""What a `kyverno test` run proves: only samples the engine judged count.

The CLI counts a resource that no rule of the policy matched as a pass ("Excluded"): a Pod
sample of a Deployment-only policy "got its expected verdict" without being looked at. A rule
is proven only when the engine judged at least one compliant and one violating sample of it
and every judged sample got its expected verdict; every other sample is named as not judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patternpolicy.adapters.kyverno_cli import SuiteRow
from patternpolicy.validate.kyverno_suite import sample_names


@dataclass(frozen=True)
class Proof:
    samples: int
    judged: int
    not_judged: list[str] = field(default_factory=list)  # "Pod/good0 (excluded by the engine)"
    unproven: list[str] = field(default_factory=list)  # "policy/rule: no violating sample judged by the engine"

    @property
    def proven(self) -> bool:
        return not self.unproven

    def not_judged_text(self) -> str:
        return f"not judged (not counted): {', '.join(self.not_judged)}" if self.not_judged else ""

    def summary(self) -> str:
        judged = f"{self.judged} of {self.samples} sample(s) judged by the engine"
        if self.proven:
            text = f"{judged}, each got its expected verdict"
        else:
            text = f"not proven: {'; '.join(self.unproven)} ({judged})"
        return "; ".join(t for t in (text, self.not_judged_text()) if t)


_VERDICT_WORDS = {"allow": "compliant", "deny": "violating"}


def _label(test: Mapping[str, Any], name: str) -> str:
    return f"{test['resource'].get('kind')}/{name}"


def _rule_of(test: Mapping[str, Any]) -> tuple[str, str]:
    return str(test["policy"]), str(test.get("rule") or "")


def assess(tests: Sequence[Mapping[str, Any]], rows: Sequence[SuiteRow]) -> Proof:
    """The proof a run gives. `tests`: the samples of the suite; `rows`: the CLI's rows for them."""
    names = dict(enumerate(sample_names(tests)))
    verdicts: dict[tuple[str, str], set[str]] = {}
    not_judged, judged = [], 0
    for index, test in enumerate(tests):
        rule_key = _rule_of(test)
        verdicts.setdefault(rule_key, set())
        mine = [r for r in rows if r.policy == rule_key[0] and r.name == names[index]]
        # ClusterPolicy rows name the rule; ValidatingPolicy rows leave it empty, VAP rows repeat the policy.
        mine = [r for r in mine if r.rule == rule_key[1]] or mine
        seen = [r for r in mine if r.judged]
        if not seen:
            why = f"{mine[0].reason.lower()} by the engine" if mine else "no result from the engine"
            not_judged.append(f"{_label(test, names[index])} ({why})")
            continue
        judged += 1
        if all(r.result == "Pass" for r in seen):
            verdicts[rule_key].add(str(test["expect"]))
    unproven = []
    for (policy, rule), got in verdicts.items():
        missing = [_VERDICT_WORDS[v] for v in ("allow", "deny") if v not in got]
        if missing:
            unproven.append(f"{policy}{'/' + rule if rule and rule != policy else ''}: no "
                            f"{' or '.join(missing)} sample judged with its expected verdict")
    return Proof(samples=len(tests), judged=judged, not_judged=not_judged, unproven=unproven)


VAP, VAP_BINDING = "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"
ENGINE_FORM_API_VERSION = "policies.kyverno.io/v1"
# What a ValidatingPolicy and a ValidatingAdmissionPolicy share (the compilers write both from one spec).
_SHARED = ("matchConstraints", "matchConditions", "variables", "validations", "auditAnnotations", "failurePolicy")


def engine_form(policies: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The policies as the Kyverno CLI is to judge them, and the names of those it judges in another form.

    The CLI (1.19) evaluates a ValidatingAdmissionPolicy's expressions on any resource, whatever its
    matchConstraints say (a Pod reaches a Deployment-only rule), and on no custom kind at all (every
    sample is "Excluded", which it counts as passed). Each VAP is therefore judged in its ValidatingPolicy
    form: the same match constraints, conditions, variables and validations (CEL), and its binding's
    validation actions. A binding's own matchResources (never written by the compiler) is not carried over.
    """
    actions = {str((b.get("spec") or {}).get("policyName")): (b.get("spec") or {}).get("validationActions")
               for b in policies if b.get("kind") == VAP_BINDING}
    judged: list[dict[str, Any]] = []
    converted = []
    for policy in policies:
        if policy.get("kind") == VAP_BINDING:
            continue
        if policy.get("kind") != VAP:
            judged.append(dict(policy))
            continue
        name = str((policy.get("metadata") or {}).get("name"))
        spec = {k: v for k, v in (policy.get("spec") or {}).items() if k in _SHARED}
        judged.append({"apiVersion": ENGINE_FORM_API_VERSION, "kind": "ValidatingPolicy", "metadata": {"name": name},
                       "spec": {**spec, "validationActions": actions.get(name) or ["Deny"]}})
        converted.append(name)
    return judged, converted
