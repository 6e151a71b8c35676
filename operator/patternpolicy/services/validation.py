"""Proving a proposal: schema (server-side dry-run) and behaviour (real Kyverno CLI)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from patternpolicy import constants as c
from patternpolicy import metrics
from patternpolicy.adapters.kube import KubeTransientError
from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, SuiteRun, run_suite
from patternpolicy.adapters.workdirs import workdir
from patternpolicy.validate.kyverno_suite import suite_files
from patternpolicy.validate.proof import assess, engine_form

Result = Literal["Passed", "Failed", "Skipped"]
DryRun = Callable[[dict[str, Any]], None]  # raises with a message when the server rejects the object


def check(result: Result, detail: str) -> dict[str, str]:
    return {"result": result, "detail": detail[:4000]}


def schema_check(policies: list[dict[str, Any]], dry_run: DryRun | None) -> dict[str, str]:
    if dry_run is None:
        return check("Skipped", "no cluster: server-side dry-run not run")
    problems = []
    for policy in policies:
        try:
            dry_run(policy)
        except KubeTransientError:
            raise  # no verdict on the policy: validate again later rather than call it invalid
        except Exception as exc:  # the adapter words API errors for people
            problems.append(f"{policy['metadata']['name']}: {exc}")
    if problems:
        return check("Failed", "; ".join(problems))
    return check("Passed", f"server-side dry-run accepted {len(policies)} object(s)")


Verdict = Literal["proven", "unproven", "wrong", "no-samples", "no-engine"]
_RESULTS: dict[Verdict, Result] = {"proven": "Passed", "wrong": "Failed", "no-samples": "Failed",
                                   "unproven": "Skipped", "no-engine": "Skipped"}


@dataclass(frozen=True)
class Behaviour:
    """What the engine said about the samples. `unproven`: it contradicted none, but did not judge a compliant
    and a violating sample of every rule (no verdict, as without an engine: applied only with allowUnproven)."""

    verdict: Verdict
    detail: str

    @property
    def result(self) -> Result:
        return _RESULTS[self.verdict]


def prove(name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
          runner: Callable[[Path], SuiteRun] = run_suite, crds: Sequence[Mapping[str, Any]] = ()) -> Behaviour:
    if not tests:
        return Behaviour("no-samples", "no sample resources: every rule needs a compliant and a violating sample")
    if {t["expect"] for t in tests} != {"allow", "deny"}:
        return Behaviour("no-samples", "samples must include both a compliant and a violating resource")
    judged_as, converted = engine_form(policies)
    with workdir("suite") as tmp:
        for file_name, content in suite_files(name, judged_as, tests, crds).items():
            (tmp / file_name).write_text(content)
        try:
            run = runner(tmp)
        except KyvernoNotFound as exc:
            return Behaviour("no-engine", str(exc))
    proof = assess(tests, run.rows)
    form = (f" ({', '.join(converted)} judged in ValidatingPolicy form: the same match and CEL)" if converted
            else "")
    if not run.passed:
        return Behaviour("wrong", "; ".join(t for t in (*run.failures, proof.not_judged_text()) if t))
    return Behaviour("proven" if proof.proven else "unproven", f"kyverno test{form}: {proof.summary()}")


def behaviour_check(name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
                    runner: Callable[[Path], SuiteRun] = run_suite,
                    crds: Sequence[Mapping[str, Any]] = ()) -> dict[str, str]:
    behaviour = prove(name, policies, tests, runner, crds)
    return check(behaviour.result, behaviour.detail)


# What each engine may apply: validating policies only (no mutation, generation, image verification, cleanup).
ENGINE_KINDS: dict[str, set[tuple[str, str]]] = {
    "ValidatingPolicy": {("policies.kyverno.io", "ValidatingPolicy")},
    "ClusterPolicy": {("kyverno.io", "ClusterPolicy")},
    "ValidatingAdmissionPolicy": {("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
                                  ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding")},
}
_NOT_VALIDATING = ("mutate", "generate", "verifyImages", "cleanup", "mutateExistingOnPolicyUpdate")


def _selectors(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["namespaceSelector"]] if isinstance(node.get("namespaceSelector"), dict) else []
        return found + [s for v in node.values() for s in _selectors(v)]
    if isinstance(node, list):
        return [s for v in node for s in _selectors(v)]
    return []


def _exposes_protected(selector: dict[str, Any]) -> list[str]:
    """Protected namespaces a selector lets in without naming them in an `In` (the pattern's explicit choice)."""
    expressions = selector.get("matchExpressions") or []
    included = {v for e in expressions if e.get("operator") == "In" for v in e.get("values") or []}
    excluded = {v for e in expressions if e.get("operator") == "NotIn" for v in e.get("values") or []}
    if included:
        return []  # only the named namespaces are governed
    return [ns for ns in c.PROTECTED_NAMESPACES if ns not in excluded]


def content_problems(policies: list[dict[str, Any]], engine: str | None) -> list[str]:
    """Why these objects must not be applied: not a validating policy of `engine` (any engine when None),
    a Kyverno rule that mutates, generates, verifies images or cleans up, or a protected namespace governed."""
    allowed = ENGINE_KINDS.get(engine or "", set().union(*ENGINE_KINDS.values()))
    problems = []
    for policy in policies:
        group = str(policy.get("apiVersion", "")).rpartition("/")[0]
        name = f"{policy.get('kind')} {(policy.get('metadata') or {}).get('name')}"
        if (group, policy.get("kind")) not in allowed:
            problems.append(f"{name}: only validating policies of the engine in use ({engine or 'any'}) are applied")
        for rule in (policy.get("spec") or {}).get("rules") or []:
            kinds = [k for k in _NOT_VALIDATING if rule.get(k)]
            if kinds or not rule.get("validate"):
                problems.append(f"{name}: rule {rule.get('name')} does not only validate "
                                f"({', '.join(kinds) or 'no validate'})")
        for selector in _selectors(policy.get("spec") or {}):
            exposed = _exposes_protected(selector)
            if exposed:
                problems.append(f"{name}: its namespaceSelector does not exclude {', '.join(exposed)}")
    return problems


def content_check(policies: list[dict[str, Any]], engine: str | None) -> dict[str, str]:
    problems = content_problems(policies, engine)
    if problems:
        return check("Failed", "; ".join(problems))
    return check("Passed", f"{len(policies)} validating policy object(s), protected namespaces excluded")


Impact = Callable[[list[dict[str, Any]]], dict[str, Any]]


# Every stage a validation record may hold besides impact (which has its own writer, reconcile/impact.py).
STAGES = ("content", "schema", "behaviour")


def validate(name: str, spec: dict[str, Any], dry_run: DryRun | None,
             impact: Impact | None = None, crds: Sequence[Mapping[str, Any]] = (),
             engine: str | None = None) -> tuple[dict[str, Any], bool]:
    """Validation record for the proposal status, and whether the proposal may ever be applied.

    Impact is informative: denying existing objects is what a new rule may well do.
    """
    policies, tests = spec.get("policies") or [], spec.get("tests") or []
    content = content_check(policies, engine)
    if content["result"] == "Failed":
        # Never sent to the server, not even as a dry-run, nor evaluated: it will not be applied.
        return {"content": content}, False
    results: dict[str, Any] = {
        "content": content,
        "schema": schema_check(policies, dry_run),
        "behaviour": behaviour_check(name, policies, tests, crds=crds),
    }
    valid = all(r["result"] != "Failed" for r in results.values())
    for stage in (stage for stage, r in results.items() if r["result"] == "Failed"):
        metrics.VALIDATION_FAILURES.labels(stage).inc()
    if impact is not None:
        results["impact"] = impact(policies) if valid else check("Skipped", "not run: the proposal is invalid")
    return results, valid
