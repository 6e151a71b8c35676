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
from patternpolicy.discovery.builtin_kinds import builtin_kinds
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


def _label(test: Mapping[str, Any], name: str | None = None) -> str:
    resource = test["resource"]
    return f"{resource.get('kind')}/{name or (resource.get('metadata') or {}).get('name')}"


def _rule_of(test: Mapping[str, Any]) -> tuple[str, str]:
    return str(test["policy"]), str(test.get("rule") or "")


def assess(tests: Sequence[Mapping[str, Any]], rows: Sequence[SuiteRow],
           left_out: Mapping[int, str] | None = None) -> Proof:
    """The proof a run gives. `tests`: every sample of the proposal; `left_out`: index -> why a sample was
    not run at all (see `unmatched_samples`); `rows`: the CLI's rows for the others, as the suite named them."""
    left_out = left_out or {}
    ran = [i for i in range(len(tests)) if i not in left_out]
    names = dict(zip(ran, sample_names([tests[i] for i in ran]), strict=True))
    verdicts: dict[tuple[str, str], set[str]] = {}
    not_judged, judged = [], 0
    for index, test in enumerate(tests):
        rule_key = _rule_of(test)
        verdicts.setdefault(rule_key, set())
        if index in left_out:
            not_judged.append(f"{_label(test)} ({left_out[index]})")
            continue
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


def _plurals(crds: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    plurals = {(k.group, k.kind): k.plural for k, _ in builtin_kinds()}
    for crd in crds:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        if names.get("kind") and names.get("plural"):
            plurals[(str(spec.get("group", "")), str(names["kind"]))] = str(names["plural"])
    return plurals


def _matches(rules: Sequence[Mapping[str, Any]], group: str, plural: str) -> bool:
    return any((group in (r.get("apiGroups") or []) or "*" in (r.get("apiGroups") or []))
               and (plural in (r.get("resources") or []) or "*" in (r.get("resources") or []))
               for r in rules)


def unmatched_samples(policies: Sequence[Mapping[str, Any]], tests: Sequence[Mapping[str, Any]],
                      crds: Sequence[Mapping[str, Any]] = ()) -> dict[int, str]:
    """Samples of kinds their ValidatingAdmissionPolicy does not match: index -> why.

    The Kyverno CLI (1.19) evaluates a VAP's expressions on every resource, whatever its
    matchConstraints say, where the API server would never send it the object: such a
    sample is left out of the run rather than judged by a rule that never sees it.
    Kyverno's own policies need no such help: the CLI reports their unmatched samples
    as Excluded. A kind whose resource name is not known is left to the engine.
    """
    constraints = {str((p.get("metadata") or {}).get("name")): ((p.get("spec") or {}).get("matchConstraints") or {})
                   for p in policies if p.get("kind") == "ValidatingAdmissionPolicy"}
    plurals = _plurals(crds)
    found = {}
    for index, test in enumerate(tests):
        match = constraints.get(str(test.get("policy")))
        if match is None:
            continue
        resource = test["resource"]
        group = str(resource.get("apiVersion", "")).rpartition("/")[0]
        plural = plurals.get((group, str(resource.get("kind"))))
        if plural is not None and not _matches(match.get("resourceRules") or [], group, plural):
            found[index] = f"the policy does not match {resource.get('kind')}"
    return found
