"""The offline job: pattern files in, policy files + engine test suites + report out."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from patternpolicy import yamlio
from patternpolicy.adapters.anthropic_api import ModelError
from patternpolicy.analysis.base import Analyzer
from patternpolicy.compile.engines import EngineTarget
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern
from patternpolicy.services.files import LoadProblem, load_patterns
from patternpolicy.services.output_dir import check_owned, staged
from patternpolicy.services.pipeline import FieldCheck, Generated, PipelineError, run_pipeline
from patternpolicy.services.validation import prove
from patternpolicy.validate.kyverno_suite import suite_files
from patternpolicy.validate.proof import engine_form

Outcome = Literal["policies", "declined", "error"]


@dataclass
class PatternReport:
    pattern: str
    outcome: Outcome
    analyzer: str = ""
    policies: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    reason: str = ""
    dropped: list[str] = field(default_factory=list)
    behaviour: str = "not run"
    kinds_found: list[str] = field(default_factory=list)  # which kinds the text is about, and why
    notes: list[str] = field(default_factory=list)


@dataclass
class GenerateReport:
    patterns: list[PatternReport] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(p.outcome != "error" for p in self.patterns)

    def shortfalls(self) -> list[str]:
        """What `generate --strict` fails on besides errors: declined patterns and behaviour not proven."""
        found = [f"{p.pattern}: declined: {p.reason}" for p in self.patterns if p.outcome == "declined"]
        found += [f"{p.pattern}: behaviour {p.behaviour}" for p in self.patterns
                  if p.outcome == "policies" and not p.behaviour.startswith("passed")]
        return found

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "patterns": [asdict(p) for p in self.patterns],
                "problems": [asdict(p) for p in self.problems]}


ENGINE_FORM_FILE = "engine-form.yaml"
ENGINE_FORM_NOTE = ("# The policies of ../../policies/ as Kyverno's CLI can judge them: each\n"
                    "# ValidatingAdmissionPolicy in ValidatingPolicy form (the same match constraints, variables\n"
                    "# and CEL; its binding's actions).\n"
                    "# kyverno test ignores a VAP's match and excludes every custom kind from it.\n")


def _write_suite(directory: Path, name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
                 policy_paths: list[str], crds: Sequence[Mapping[str, Any]] = ()) -> None:
    judged, converted = engine_form(policies)
    files = suite_files(name, judged if converted else policies, tests, crds)  # results name the judged form
    files.pop("policies.yaml")
    if converted:
        # `kyverno test` judges a ValidatingAdmissionPolicy on no custom kind and whatever its match says: the
        # suite runs the same match and CEL in ValidatingPolicy form, as the operator's proof did.
        files[ENGINE_FORM_FILE] = ENGINE_FORM_NOTE + yamlio.dump_all(judged)
        policy_paths = [ENGINE_FORM_FILE]
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if name == "kyverno-test.yaml":
            doc = yaml.safe_load(content)
            doc["policies"] = policy_paths
            content = yamlio.dump(doc)
        (directory / name).write_text(content)


def _behaviour(name: str, verify: bool, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
               crds: Sequence[Mapping[str, Any]]) -> tuple[bool, str]:
    """(whether the policies may be handed out, what the engine proved): the operator's own proof, where only
    samples the engine judged count. A policy the engine contradicts is never handed out."""
    if not verify:
        return True, "not run (--no-verify)"
    behaviour = prove(name, policies, tests, crds=crds)
    words = {"proven": "passed", "unproven": "not proven", "no-engine": "not run"}
    if behaviour.verdict in words:
        return True, f"{words[behaviour.verdict]} ({behaviour.detail})"
    return False, f"failed: {behaviour.detail}"


def write_pattern_files(out: Path, name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
                        report: PatternReport, crds: Sequence[Mapping[str, Any]] = ()) -> None:
    """policies/<policy>.yaml (flat: one directory a GitOps tool syncs) and the tests/<pattern>/ suite."""
    policy_dir = out / "policies"
    policy_dir.mkdir(parents=True, exist_ok=True)
    policy_paths = []
    by_name: dict[str, list[dict[str, Any]]] = {}
    for policy in policies:  # a VAP and its binding share a name and a file
        by_name.setdefault(policy["metadata"]["name"], []).append(policy)
    taken = [n for n in by_name if (policy_dir / f"{n}.yaml").exists()]
    if taken:
        report.outcome, report.reason = "error", f"policy name already written for another pattern: {', '.join(taken)}"
        return
    for policy_name, objects in by_name.items():
        path = policy_dir / f"{policy_name}.yaml"
        path.write_text(yamlio.dump_all(objects))
        policy_paths.append(f"../../policies/{path.name}")
        report.files.append(str(path.relative_to(out)))
        report.policies.append(policy_name)
    _write_suite(out / "tests" / name, name, policies, tests, policy_paths, crds)


def write_kustomization(report: GenerateReport, out: Path) -> None:
    """Lists exactly the policy files: `kubectl apply -k`, Argo CD and Flux never see samples or test kinds."""
    files = sorted(f for p in report.patterns for f in p.files)
    doc = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": files}
    (out / "kustomization.yaml").write_text(
        "# Written by patternpolicy: the policies only (tests/ holds samples that must never be applied).\n"
        + yamlio.dump(doc))


def _handle(generated: Generated, out: Path, verify: bool, crds: Sequence[Mapping[str, Any]]) -> PatternReport:
    name = generated.pattern.ref.name
    report = PatternReport(pattern=name, outcome="declined", analyzer=generated.analysis.analyzer,
                           reason=generated.reason,
                           dropped=[f"{d.rule}: {', '.join(d.reasons)}" for d in generated.dropped],
                           kinds_found=generated.analysis.kinds_found, notes=generated.analysis.notes)
    if not generated.enforceable:
        return report
    write_pattern_files(out, name, generated.policies, generated.tests, report, crds)
    if report.outcome == "error":
        return report
    ok, report.behaviour = _behaviour(name, verify, generated.policies, generated.tests, crds)
    if not ok:
        # A policy that fails its own samples is never handed out.
        for file in report.files:
            (out / file).unlink()
        report.outcome, report.files, report.reason = "error", [], "behaviour check failed"
        return report
    report.outcome = "policies"
    return report


def _earlier_entries(out: Path) -> dict[str, dict[str, Any]]:
    """The previous run's report entries by pattern (nothing when there is no readable report)."""
    try:
        data = json.loads((out / "report.json").read_text())
        return {str(p["pattern"]): p for p in data.get("patterns") or [] if isinstance(p, dict) and "pattern" in p}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _keep_earlier(out: Path, work: Path, entry: dict[str, Any] | None, report: PatternReport) -> bool:
    """Carries a pattern's earlier policy files and suite into the new output (and its kustomization)."""
    files = [f for f in (entry or {}).get("files") or [] if (out / f).is_file()]
    for file in files:
        target = work / "policies" / Path(file).name  # flat, also for outputs of the earlier nested layout
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out / file, target)
        report.files.append(str(target.relative_to(work)))
    if files and (out / "tests" / report.pattern).is_dir():
        shutil.copytree(out / "tests" / report.pattern, work / "tests" / report.pattern)
    report.policies = list((entry or {}).get("policies") or []) if files else []
    return bool(files)


OnPattern = Callable[[int, int, str], None]  # (index, total, pattern name) as each pattern starts


def generate(paths: list[Path], out: Path, analyzer: Analyzer, catalog: KindCatalog,
             verify: bool = True, engine: EngineTarget | None = None,
             field_check: FieldCheck | None = None, crds: Sequence[Mapping[str, Any]] = (),
             on_pattern: OnPattern | None = None) -> GenerateReport:
    """`crds`: the CRD documents given with --crds; suites that test custom kinds carry them.

    Everything is written beside `out` first and swapped in when the run completes: an exception leaves `out`
    as it was. A pattern the model could not analyse is an error in the report that keeps its earlier files.
    """
    patterns, problems = load_patterns(paths)
    report = GenerateReport(problems=problems)
    if not patterns and not problems:
        problems.append(LoadProblem(", ".join(map(str, paths)), "no Pattern documents found"))
    check_owned(out)
    results: list[tuple[Pattern, Generated | Exception]] = []
    for index, pattern in enumerate(patterns):  # all analysis first: a model that fails keeps earlier files
        if on_pattern is not None:
            on_pattern(index, len(patterns), pattern.ref.name)
        try:
            results.append((pattern, run_pipeline(pattern, analyzer, catalog, field_check=field_check,
                                                  engine=engine)))
        except (PipelineError, ModelError) as exc:
            results.append((pattern, exc))
    earlier = _earlier_entries(out)
    with staged(out) as work:
        for pattern, result in results:
            if isinstance(result, Exception):
                name = pattern.ref.name
                entry = PatternReport(pattern=name, outcome="error", reason=str(result),
                                      analyzer=analyzer.name if isinstance(result, ModelError) else "")
                if isinstance(result, ModelError) and _keep_earlier(out, work, earlier.get(name), entry):
                    entry.reason += "; its earlier policies are kept"
                report.patterns.append(entry)
                continue
            report.patterns.append(_handle(result, work, verify, crds))
        write_report(report, work)
    return report


def write_report(report: GenerateReport, out: Path) -> None:
    (out / "report.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    (out / "report.md").write_text(render_report(report))
    write_kustomization(report, out)


def render_report(report: GenerateReport) -> str:
    lines = ["# patternpolicy generate report", ""]
    counts = {o: sum(p.outcome == o for p in report.patterns) for o in ("policies", "declined", "error")}
    lines.append(f"{len(report.patterns)} patterns: {counts['policies']} with policies, "
                 f"{counts['declined']} declined, {counts['error']} errors, {len(report.problems)} input problems.")
    lines.append("")
    for p in report.patterns:
        lines.append(f"## {p.pattern}: {p.outcome}")
        if p.policies:
            lines.append(f"- policies: {', '.join(p.policies)}")
            lines.append(f"- behaviour: {p.behaviour}")
        if p.reason:
            lines.append(f"- reason: {p.reason}")
        lines += [f"- dropped rule {d}" for d in p.dropped]
        lines += [f"- kind {k}" for k in p.kinds_found]
        lines += [f"- note: {n}" for n in p.notes]
        lines.append("")
    if report.problems:
        lines.append("## Input problems")
        lines += [f"- {p.source}: {p.message}" for p in report.problems]
    return "\n".join(lines).rstrip() + "\n"
