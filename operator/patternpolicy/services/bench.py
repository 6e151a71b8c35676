"""`patternpolicy bench`: generation quality on labelled cases, scored by the real engine.

Case format and scoring rules: shared/policy-bench/README.md (format 1). Any
file of that format is accepted; nothing here knows particular cases.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patternpolicy.adapters.kyverno_cli import evaluate
from patternpolicy.adapters.workdirs import workdir
from patternpolicy.analysis.base import Analyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.services.pipeline import FieldCheck, run_pipeline
from patternpolicy.yamlio import dump_all


class BadCases(ValueError):
    pass


@dataclass
class CaseResult:
    id: str
    analyser: str
    outcome: str  # correct | wrong | declined | error
    seconds: float
    mismatches: list[str] = field(default_factory=list)
    reason: str = ""
    compliant_seen: int = 0
    compliant_denied: int = 0
    input_tokens: int = 0  # prompt tokens over every model call for the case (from the responses' usage)
    calls: int = 0  # model calls, feedback and kind-lookup rounds included


def load_cases(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BadCases(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != 1 or not isinstance(data.get("cases"), list):
        raise BadCases(f"{path}: expected an object with format 1 and a list of cases")
    for case in data["cases"]:
        missing = [k for k in ("id", "title", "description", "resources", "expected") if k not in case]
        if missing:
            raise BadCases(f"{path}: case {case.get('id', '?')} lacks {', '.join(missing)}")
    cases: list[dict[str, Any]] = data["cases"]
    return cases


def contradictions(case: dict[str, Any]) -> list[str]:
    """Scored resources that are identical but for their name, yet labelled with different verdicts.

    No single set of deny policies can get both right; the table says so instead of hiding it.
    """
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for resource in case["resources"]:
        key = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
        expected = case["expected"].get(key)
        if expected is None:
            continue
        body = {**resource, "metadata": {k: v for k, v in resource.get("metadata", {}).items() if k != "name"}}
        canonical = json.dumps(body, sort_keys=True)
        if canonical in seen and seen[canonical][1] != expected:
            clashes.append(f"{seen[canonical][0]} ({seen[canonical][1]}) and {key} ({expected})")
        seen.setdefault(canonical, (key, expected))
    return clashes


def case_pattern(case: dict[str, Any]) -> Pattern:
    """The pattern a user would write: the case's title and description only."""
    name = re.sub(r"[^a-z0-9]+", "-", case["id"].lower()).strip("-")[-50:].strip("-") or "case"
    text = f"{case['title'].strip()}. {case['description'].strip()}"[:4000]
    return Pattern(ref=PatternRef(name=name, uid="bench", generation=1), spec=PatternSpec(description=text))


def _score(case: dict[str, Any], policies: list[dict[str, Any]]) -> tuple[list[str], int, int]:
    with workdir("bench") as tmp:
        policy_file, resource_file = tmp / "policies.yaml", tmp / "resources.yaml"
        policy_file.write_text(dump_all(policies))
        resource_file.write_text(dump_all(case["resources"]))
        verdicts = evaluate([policy_file], [resource_file])
    by_kind_name = {f"{k.split('/')[0]}/{k.split('/')[-1]}": v for k, v in verdicts.items()}
    mismatches, seen, denied = [], 0, 0
    for key, expected in sorted(case["expected"].items()):
        got = by_kind_name.get(key, "allow")
        if expected == "allow":
            seen += 1
            denied += got == "deny"
        if got != expected:
            mismatches.append(f"{key}: expected {expected}, got {got}")
    return mismatches, seen, denied


def run_case(case: dict[str, Any], analyzer: Analyzer, catalog: KindCatalog,
             field_check: FieldCheck | None = None) -> CaseResult:
    started = time.perf_counter()
    try:
        generated = run_pipeline(case_pattern(case), analyzer, catalog, field_check=field_check)
    except Exception as exc:  # a crash is scored, not fatal to the run
        return CaseResult(case["id"], analyzer.name, "error", time.perf_counter() - started, reason=str(exc))
    seconds = time.perf_counter() - started  # engine scoring excluded
    tokens, calls = generated.analysis.input_tokens, generated.analysis.attempts
    if not generated.enforceable:
        return CaseResult(case["id"], analyzer.name, "declined", seconds, reason=generated.reason,
                          input_tokens=tokens, calls=calls)
    try:
        mismatches, seen, denied = _score(case, generated.policies)
    except Exception as exc:
        return CaseResult(case["id"], analyzer.name, "error", seconds, reason=f"engine: {exc}",
                          input_tokens=tokens, calls=calls)
    outcome = "wrong" if mismatches else "correct"
    clashes = contradictions(case) if mismatches else []
    reason = f"labels contradict each other: {'; '.join(clashes[:2])}" if clashes else ""
    return CaseResult(case["id"], analyzer.name, outcome, seconds, mismatches, reason=reason,
                      compliant_seen=seen, compliant_denied=denied, input_tokens=tokens, calls=calls)


def summarise(results: list[CaseResult]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name in sorted({r.analyser for r in results}):
        mine = [r for r in results if r.analyser == name]
        count = {o: sum(r.outcome == o for r in mine) for o in ("correct", "wrong", "declined", "error")}
        emitted = count["correct"] + count["wrong"]
        seen = sum(r.compliant_seen for r in mine)
        consistent = [r for r in mine if not r.reason.startswith("labels contradict")]
        seen_consistent = sum(r.compliant_seen for r in consistent)
        times = sorted(r.seconds for r in mine)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] if times else 0.0
        summary[name] = {
            "correct": count["correct"], "emitted": emitted, "declined": count["declined"],
            "wrong": count["wrong"], "errors": count["error"],
            "precision": round(count["correct"] / emitted, 4) if emitted else 0.0,
            "recall": round(count["correct"] / len(mine), 4) if mine else 0.0,
            "false_deny_rate": round(sum(r.compliant_denied for r in mine) / seen, 4) if seen else 0.0,
            # the same, leaving out cases whose own labels contradict each other
            "false_deny_rate_consistent_cases": round(
                sum(r.compliant_denied for r in consistent) / seen_consistent, 4) if seen_consistent else 0.0,
            "p95_seconds": round(p95, 4),
            "median_seconds": round(statistics.median(times), 4) if times else 0.0,
            **_usage(mine),
        }
    return summary


def _usage(results: list[CaseResult]) -> dict[str, Any]:
    """Model cost per pattern, for analysers that call a model (from the usage in its responses)."""
    if not any(r.calls for r in results):
        return {}
    tokens = [r.input_tokens for r in results]
    calls = [r.calls for r in results]
    return {"prompt_tokens_median": int(statistics.median(tokens)), "prompt_tokens_max": max(tokens),
            "prompt_tokens_total": sum(tokens), "calls_mean": round(statistics.mean(calls), 2),
            "calls_max": max(calls)}


def render_usage(summary: dict[str, Any], results: list[CaseResult]) -> list[str]:
    lines = []
    for name, s in summary.items():
        if "calls_max" not in s:
            continue
        lines += ["", f"{name} model usage per pattern: prompt tokens median {s['prompt_tokens_median']}, "
                      f"max {s['prompt_tokens_max']}, total {s['prompt_tokens_total']}; calls mean "
                      f"{s['calls_mean']}, max {s['calls_max']}",
                  f"  {'case':<40} {'calls':>5} {'prompt tokens':>13}"]
        lines += [f"  {r.id[:40]:<40} {r.calls:>5} {r.input_tokens:>13}" for r in results if r.analyser == name]
    return lines


def render_table(cases: int, summary: dict[str, Any], results: list[CaseResult]) -> str:
    lines = [f"{cases} cases", "",
             f"{'analyser':<10} {'correct':>7} {'emitted':>7} {'declined':>8} {'wrong':>5} {'errors':>6} "
             f"{'precision':>9} {'recall':>6} {'false-deny':>10} {'(consistent)':>12} {'p95 s/case':>10}"]
    for name, s in summary.items():
        lines.append(f"{name:<10} {s['correct']:>7} {s['emitted']:>7} {s['declined']:>8} {s['wrong']:>5} "
                     f"{s['errors']:>6} {s['precision']:>9.1%} {s['recall']:>6.1%} {s['false_deny_rate']:>10.2%} "
                     f"{s['false_deny_rate_consistent_cases']:>12.2%} "
                     f"{s['p95_seconds']:>10.4f}")
    lines += render_usage(summary, results)
    problems = [r for r in results if r.outcome in ("wrong", "error")]
    if problems:
        lines += ["", "wrong or failed:"]
        for r in problems:
            lines.append(f"  {r.id} [{r.outcome}] {r.reason} {'; '.join(r.mismatches[:4])}".rstrip())
    return "\n".join(lines)


def as_json(cases: int, summary: dict[str, Any], results: list[CaseResult]) -> str:
    return json.dumps({
        "cases": cases, "analysers": summary,
        "results": [{"id": r.id, "analyser": r.analyser, "outcome": r.outcome, "mismatches": r.mismatches,
                     "reason": r.reason, "seconds": round(r.seconds, 4), "input_tokens": r.input_tokens,
                     "calls": r.calls} for r in results],
    })
