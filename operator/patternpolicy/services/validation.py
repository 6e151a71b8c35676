"""Proving a proposal: schema (server-side dry-run) and behaviour (real Kyverno CLI)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from patternpolicy import metrics
from patternpolicy.adapters.kube import KubeTransientError
from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, SuiteRun, run_suite
from patternpolicy.validate.kyverno_suite import suite_files

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


def behaviour_check(name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
                    runner: Callable[[Path], SuiteRun] = run_suite,
                    crds: Sequence[Mapping[str, Any]] = ()) -> dict[str, str]:
    if not tests:
        return check("Failed", "no sample resources: every rule needs a compliant and a violating sample")
    verdicts = {t["expect"] for t in tests}
    if verdicts != {"allow", "deny"}:
        return check("Failed", "samples must include both a compliant and a violating resource")
    with tempfile.TemporaryDirectory(prefix="patternpolicy-suite-") as tmp:
        for file_name, content in suite_files(name, policies, tests, crds).items():
            (Path(tmp) / file_name).write_text(content)
        try:
            run = runner(Path(tmp))
        except KyvernoNotFound as exc:
            return check("Skipped", str(exc))
    if run.passed:
        return check("Passed", f"kyverno test: {len(tests)} sample(s) got their expected verdict")
    return check("Failed", "; ".join(run.failures))


Impact = Callable[[list[dict[str, Any]]], dict[str, Any]]


def validate(name: str, spec: dict[str, Any], dry_run: DryRun | None,
             impact: Impact | None = None, crds: Sequence[Mapping[str, Any]] = ()) -> tuple[dict[str, Any], bool]:
    """Validation record for the proposal status, and whether the proposal may ever be applied.

    Impact is informative: denying existing objects is what a new rule may well do.
    """
    policies, tests = spec.get("policies") or [], spec.get("tests") or []
    results: dict[str, Any] = {
        "schema": schema_check(policies, dry_run),
        "behaviour": behaviour_check(name, policies, tests, crds=crds),
    }
    valid = all(r["result"] != "Failed" for r in results.values())
    for stage in (stage for stage, r in results.items() if r["result"] == "Failed"):
        metrics.VALIDATION_FAILURES.labels(stage).inc()
    if impact is not None:
        results["impact"] = impact(policies) if valid else check("Skipped", "not run: the proposal is invalid")
    return results, valid
