"""`patternpolicy export`: what a cluster has applied (or proposed) as GitOps files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from patternpolicy.adapters.kube import KubeError, custom, list_crds
from patternpolicy.constants import GROUP, PROPOSAL_PLURAL, VERSION
from patternpolicy.services.generate import (
    GenerateReport,
    PatternReport,
    write_pattern_files,
    write_report,
)
from patternpolicy.services.output_dir import staged
from patternpolicy.validate.kyverno_suite import has_custom_kinds


def _portable(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as written by `generate`: no ownership or proposal link, which only mean something in-cluster."""
    meta = {k: v for k, v in policy["metadata"].items() if k in ("name", "labels", "annotations")}
    meta["labels"] = {k: v for k, v in (meta.get("labels") or {}).items() if k != f"{GROUP}/proposal"}
    return {**{k: v for k, v in policy.items() if k != "status"}, "metadata": meta}


def export(out: Path, include_pending: bool = False) -> GenerateReport:
    try:
        proposals = custom().list_cluster_custom_object(GROUP, VERSION, PROPOSAL_PLURAL).get("items") or []
    except Exception as exc:  # the adapter's errors and the client's transport errors alike
        raise KubeError(f"cannot list PolicyProposals: {exc}") from exc
    phases = {"Applied", "Pending"} if include_pending else {"Applied"}
    newest: dict[str, dict[str, Any]] = {}
    for proposal in proposals:
        spec, status = proposal.get("spec") or {}, proposal.get("status") or {}
        if status.get("phase") not in phases:
            continue
        pattern = spec["patternRef"]["name"]
        current = newest.get(pattern)
        if current is None or spec["patternRef"]["generation"] > current["spec"]["patternRef"]["generation"]:
            newest[pattern] = proposal
    # Suites of custom kinds carry their CRDs, so `kyverno test` can run them outside the cluster.
    custom_kinds = any(has_custom_kinds(p["spec"].get("tests") or []) for p in newest.values())
    crds = list_crds() if custom_kinds else []
    report = GenerateReport()
    with staged(out) as work:
        _write(work, newest, crds, report)
    return report


def _write(out: Path, newest: dict[str, dict[str, Any]], crds: list[dict[str, Any]], report: GenerateReport) -> None:
    for pattern, proposal in sorted(newest.items()):
        entry = PatternReport(pattern=pattern, outcome="policies", analyzer="exported",
                              reason=f"from {proposal['metadata']['name']} ({proposal['status']['phase']})",
                              behaviour=proposal["status"].get("validation", {}).get("behaviour", {}).get("result", ""))
        write_pattern_files(out, pattern, [_portable(p) for p in proposal["spec"]["policies"]],
                            proposal["spec"].get("tests") or [], entry, crds)
        report.patterns.append(entry)
    write_report(report, out)
