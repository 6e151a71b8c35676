"""The offline job: pattern files in, policy files + engine test suites + report out."""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from patternpolicy.adapters.anthropic_api import ModelError
from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, run_suite
from patternpolicy.analysis.base import Analyzer
from patternpolicy.compile.engines import EngineTarget
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern
from patternpolicy.services.files import LoadProblem, load_patterns
from patternpolicy.services.pipeline import FieldCheck, Generated, PipelineError, run_pipeline
from patternpolicy.validate.kyverno_suite import suite_files

MARKER = ".patternpolicy-output"
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


def check_output(out: Path) -> None:
    """Refuses, before any work, a directory with policies/ or tests/ that patternpolicy did not write."""
    owned = [out / "policies", out / "tests"]
    if any(p.exists() for p in owned) and not (out / MARKER).exists():
        raise FileExistsError(f"{out} has policies/ or tests/ not written by patternpolicy; choose another -o")


def prepare_output(out: Path, keep: Collection[str] = ()) -> None:
    """Owns `policies/` and `tests/` under out; `keep`: patterns whose earlier files stay (not analysed now)."""
    check_output(out)
    out.mkdir(parents=True, exist_ok=True)
    for owned in (out / "policies", out / "tests"):
        for path in owned.iterdir() if owned.is_dir() else ():
            if path.name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    (out / MARKER).write_text("written by patternpolicy generate; policies/ and tests/ are replaced on each run\n")


def _write_suite(directory: Path, name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
                 policy_paths: list[str], crds: Sequence[Mapping[str, Any]] = ()) -> None:
    files = suite_files(name, policies, tests, crds)
    files.pop("policies.yaml")
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if name == "kyverno-test.yaml":
            doc = yaml.safe_load(content)
            doc["policies"] = policy_paths
            content = yaml.safe_dump(doc, sort_keys=False)
        (directory / name).write_text(content)


def _behaviour(suite_dir: Path, verify: bool) -> tuple[bool, str]:
    if not verify:
        return True, "not run (--no-verify)"
    try:
        run = run_suite(suite_dir)
    except KyvernoNotFound as exc:
        return True, f"not run: {exc}"
    if run.passed:
        return True, "passed (kyverno test)"
    return False, "failed: " + "; ".join(run.failures)


def write_pattern_files(out: Path, name: str, policies: list[dict[str, Any]], tests: list[dict[str, Any]],
                        report: PatternReport, crds: Sequence[Mapping[str, Any]] = ()) -> None:
    """policies/<pattern>/<policy>.yaml and the tests/<pattern>/ suite that proves them."""
    policy_dir = out / "policies" / name
    policy_dir.mkdir(parents=True, exist_ok=True)
    policy_paths = []
    by_name: dict[str, list[dict[str, Any]]] = {}
    for policy in policies:  # a VAP and its binding share a name and a file
        by_name.setdefault(policy["metadata"]["name"], []).append(policy)
    for policy_name, objects in by_name.items():
        path = policy_dir / f"{policy_name}.yaml"
        path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
        policy_paths.append(f"../../policies/{name}/{path.name}")
        report.files.append(str(path.relative_to(out)))
        report.policies.append(policy_name)
    _write_suite(out / "tests" / name, name, policies, tests, policy_paths, crds)


def _handle(generated: Generated, out: Path, verify: bool, crds: Sequence[Mapping[str, Any]]) -> PatternReport:
    name = generated.pattern.ref.name
    report = PatternReport(pattern=name, outcome="declined", analyzer=generated.analysis.analyzer,
                           reason=generated.reason,
                           dropped=[f"{d.rule}: {', '.join(d.reasons)}" for d in generated.dropped],
                           kinds_found=generated.analysis.kinds_found, notes=generated.analysis.notes)
    if not generated.enforceable:
        return report
    write_pattern_files(out, name, generated.policies, generated.tests, report, crds)
    ok, report.behaviour = _behaviour(out / "tests" / name, verify)
    if not ok:
        # A policy that fails its own samples is never handed out.
        shutil.rmtree(out / "policies" / name)
        report.outcome, report.files, report.reason = "error", [], "behaviour check failed"
        return report
    report.outcome = "policies"
    return report


def generate(paths: list[Path], out: Path, analyzer: Analyzer, catalog: KindCatalog,
             verify: bool = True, engine: EngineTarget | None = None,
             field_check: FieldCheck | None = None, crds: Sequence[Mapping[str, Any]] = ()) -> GenerateReport:
    """`crds`: the CRD documents given with --crds; suites that test custom kinds carry them."""
    patterns, problems = load_patterns(paths)
    report = GenerateReport(problems=problems)
    if not patterns and not problems:
        problems.append(LoadProblem(", ".join(map(str, paths)), "no Pattern documents found"))
    check_output(out)
    results: list[tuple[Pattern, Generated | Exception]] = []
    for pattern in patterns:  # all analysis first: a model that fails leaves the earlier files in place
        try:
            results.append((pattern, run_pipeline(pattern, analyzer, catalog, field_check=field_check,
                                                  engine=engine)))
        except (PipelineError, ModelError) as exc:
            results.append((pattern, exc))
    unanalysed = {p.ref.name for p, r in results if isinstance(r, ModelError)}
    prepare_output(out, keep=unanalysed)
    for pattern, result in results:
        if isinstance(result, Exception):
            name = pattern.ref.name
            kept = name in unanalysed and (out / "policies" / name).exists()
            report.patterns.append(PatternReport(
                pattern=name, outcome="error", analyzer=analyzer.name if isinstance(result, ModelError) else "",
                reason=str(result) + ("; its earlier policies are kept" if kept else "")))
            continue
        report.patterns.append(_handle(result, out, verify, crds))
    write_report(report, out)
    return report


def write_report(report: GenerateReport, out: Path) -> None:
    data = {"ok": report.ok, "patterns": [asdict(p) for p in report.patterns],
            "problems": [asdict(p) for p in report.problems]}
    (out / "report.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "report.md").write_text(render_report(report))


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
