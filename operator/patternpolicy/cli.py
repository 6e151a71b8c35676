"""The `patternpolicy` command (also a kubectl plugin as `kubectl-patternpolicy`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from patternpolicy import __version__, logs
from patternpolicy.console.doctor import doctor_data, doctor_table
from patternpolicy.console.errors import EXIT_CODES, Exit, UsageError, classify
from patternpolicy.console.output import FORMATS, Format, emit, note
from patternpolicy.console.progress import Progress


def _generate(args: argparse.Namespace) -> int:
    from patternpolicy.compile.engines import OFFLINE_DEFAULTS
    from patternpolicy.discovery.catalog import KindCatalog
    from patternpolicy.schemas import schema_source
    from patternpolicy.services.analyzers import choose_analyzer
    from patternpolicy.services.files import crd_documents, load_crd_kinds
    from patternpolicy.services.generate import generate, render_report
    from patternpolicy.services.kind_index import fill, open_index
    from patternpolicy.validate.field_check import make_field_checker

    missing = [p for p in args.paths + (args.crds or []) if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(map(str, missing))}")
    crd_kinds, crd_problems = load_crd_kinds(args.crds or [])
    catalog = KindCatalog.builtin().with_kinds(crd_kinds)
    index, _ = open_index()
    try:
        crds = crd_documents(args.crds or [])
        source = schema_source(args.kubernetes_version, crd_documents=crds)
        if index is not None:
            fill(index, catalog, crds)
        catalog = catalog.searchable(index, source)
        field_check = make_field_checker(source)
        analyzer = choose_analyzer(args.analyzer, field_check=field_check)
        engine = None if args.engine == "auto" else OFFLINE_DEFAULTS[args.engine]
        report = generate(args.paths, args.output, analyzer, catalog, verify=not args.no_verify, engine=engine,
                          field_check=field_check, crds=crds, on_pattern=Progress("pattern").step)
    finally:
        if index is not None:
            index.close()
    report.problems[:0] = crd_problems
    emit({**report.as_dict(), "output": str(args.output)}, args.format, render_report(report))
    note(f"wrote {args.output}/ (policies/, tests/, kustomization.yaml, report.md, report.json)")
    if not report.ok or crd_problems:
        return Exit.FINDINGS
    shortfalls = report.shortfalls()
    for shortfall in shortfalls if args.strict else []:
        note(f"strict: {shortfall}")
    return Exit.FINDINGS if args.strict and shortfalls else Exit.OK


def _run(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kube import use_kubeconfig
    from patternpolicy.handlers.main import run_operator

    use_kubeconfig(args.kubeconfig, args.context)
    return run_operator(namespace=args.namespace, standalone=args.standalone, liveness=args.liveness,
                        log_format=args.log_format, verbose=args.verbose, debug=args.debug)


def _approve(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kube import approve_proposal, get_pattern, get_proposal, use_kubeconfig
    from patternpolicy.reconcile.approval import approval_refusal

    use_kubeconfig(args.kubeconfig, args.context)
    proposal = get_proposal(args.name)
    if proposal is None:
        raise UsageError(f"PolicyProposal {args.name} not found")
    pattern = get_pattern(str((proposal.get("spec") or {}).get("patternRef", {}).get("name", "")))
    refusal = approval_refusal(proposal, pattern, args.allow_unproven)
    if refusal:  # the operator would refuse it too: say why now (docs/approval.md)
        print(f"error: not approved: {refusal}", file=sys.stderr)
        return Exit.FINDINGS
    print(approve_proposal(args.name, proposal["metadata"]["resourceVersion"], args.allow_unproven))
    return Exit.OK


def _bench(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, find_kyverno
    from patternpolicy.discovery.catalog import KindCatalog
    from patternpolicy.schemas import schema_source
    from patternpolicy.services.analyzers import bench_analyzers
    from patternpolicy.services.bench import as_json, load_cases, render_table, run_case, summarise
    from patternpolicy.validate.field_check import make_field_checker

    cases = load_cases(args.cases)
    if find_kyverno() is None:
        raise KyvernoNotFound("the benchmark scores with the real Kyverno CLI; set PATTERNPOLICY_KYVERNO or run "
                              "`make binaries`")
    from patternpolicy.services.kind_index import fill, open_index

    source = schema_source()
    catalog = KindCatalog.builtin()
    index, _ = open_index()  # the same kind resolution as `generate` and the operator
    if index is not None:
        fill(index, catalog, [])
    catalog = catalog.searchable(index, source)
    field_check = make_field_checker(source)
    progress = Progress("case")
    with bench_analyzers(args.analyzer, field_check, record=args.record, replay=args.replay) as analyzers:
        runs = [(analyzer, case) for analyzer in analyzers for case in cases]
        results = []
        for number, (analyzer, case) in enumerate(runs):
            progress.step(number, len(runs), f"{analyzer.name} {case['id']}")
            results.append(run_case(case, analyzer, catalog, field_check))
    summary = summarise(results)
    fmt: Format = "json" if args.json else args.format
    if fmt == "json":  # the documented single JSON object, unchanged
        print(as_json(len(cases), summary, results))
    else:
        emit(json.loads(as_json(len(cases), summary, results)), fmt, render_table(len(cases), summary, results))
    return Exit.FINDINGS if any(r.outcome == "error" for r in results) else Exit.OK


def _diff(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kube import get_proposal, list_proposals, use_kubeconfig
    from patternpolicy.reconcile.diff import policy_diff, summarize
    from patternpolicy.services.apply import applied_policies_of

    use_kubeconfig(args.kubeconfig, args.context)
    proposal = get_proposal(args.name)
    if proposal is None:  # a Pattern name: its newest proposal
        candidates = list_proposals(args.name)
        proposal = candidates[-1] if candidates else None
    if proposal is None:
        raise UsageError(f"no PolicyProposal or Pattern named {args.name!r}")
    name = proposal["metadata"]["name"]
    pattern = proposal["spec"]["patternRef"]["name"]
    applied, applied_by = applied_policies_of(pattern, exclude=name)
    diff = policy_diff(applied, proposal["spec"].get("policies") or [],
                       applied_label=",".join(applied_by) or "applied", proposed_label=name)
    data = {"proposal": name, "pattern": pattern, "appliedBy": applied_by, "differs": bool(diff),
            "summary": summarize(diff), "diff": diff}
    emit(data, args.format, f"# {name} ({pattern}): {summarize(diff)}\n{diff}")
    return Exit.FINDINGS if diff else Exit.OK


def _doctor(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.cluster_facts import read_facts
    from patternpolicy.adapters.kube import use_kubeconfig
    from patternpolicy.compile.choice import choose_engine

    use_kubeconfig(args.kubeconfig, args.context)
    facts = read_facts()
    choice = choose_engine(facts, args.engine)
    data = doctor_data(facts, choice, args.engine)
    emit(data, args.format, doctor_table(data))
    if not choice.target:
        return Exit.FINDINGS
    return Exit.FINDINGS if args.strict and choice.warnings else Exit.OK


def _export(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kube import use_kubeconfig
    from patternpolicy.services.export import export
    from patternpolicy.services.generate import render_report

    use_kubeconfig(args.kubeconfig, args.context)
    report = export(args.output, include_pending=args.include_pending)
    emit({**report.as_dict(), "output": str(args.output)}, args.format, render_report(report))
    return Exit.OK


ENGINES = ["auto", "ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"]


def _common(*, cluster: bool = False, data: bool = False) -> list[argparse.ArgumentParser]:
    """Options every verb takes after its name: diagnostics, and the cluster or output format where they apply."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="full tracebacks and debug logs")
    common.add_argument("-v", "--verbose", action="store_true", help="more log lines (stderr)")
    parents = [common]
    if cluster:
        kube = argparse.ArgumentParser(add_help=False)
        kube.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
        kube.add_argument("--context", default=None, help="kubeconfig context (default: the current one)")
        parents.append(kube)
    if data:
        out = argparse.ArgumentParser(add_help=False)
        out.add_argument("--format", choices=FORMATS, default="table",
                         help="stdout as a table for people (default), or JSON/YAML for scripts")
        parents.append(out)
    return parents


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patternpolicy", description=__doc__, epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"patternpolicy {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True)

    gen = sub.add_parser("generate", parents=_common(data=True),
                         help="write policies for Pattern files (offline, no cluster)")
    gen.add_argument("paths", nargs="+", type=Path, help="Pattern files or directories")
    gen.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    gen.add_argument("--crds", type=Path, action="append", help="CRD files or directories for custom kinds")
    gen.add_argument("--engine", default="auto", choices=ENGINES,
                     help="auto: each pattern's own choice, ValidatingPolicy by default")
    gen.add_argument("--kubernetes-version", default="1.36", help="schemas of built-in kinds to check fields against")
    gen.add_argument("--no-verify", action="store_true", help="skip the Kyverno CLI behaviour check")
    gen.add_argument("--analyser", "--analyzer", dest="analyzer", default="auto", choices=["auto", "offline", "claude"],
                     help="auto: PATTERNPOLICY_ANALYSER, offline when unset; claude needs an API key")
    gen.add_argument("--strict", action="store_true",
                     help="exit 1 also when a pattern was declined or a policy's behaviour was not proven")
    gen.set_defaults(func=_generate)

    run = sub.add_parser("run", parents=_common(cluster=True), help="run the operator")
    run.add_argument("--namespace", default=None,
                     help="the operator's own namespace (default: its pod's): never governed by generated "
                          "policies; Patterns and PolicyProposals are cluster-scoped and always watched cluster-wide")
    run.add_argument("--standalone", action="store_true", help="no peering (single replica)")
    run.add_argument("--liveness", default=None, metavar="URL",
                     help="kopf's liveness endpoint (default in a pod: http://0.0.0.0:8081/healthz; 'none': off)")
    run.add_argument("--log-format", choices=["text", "json"], default=None,
                     help="default: $PATTERNPOLICY_LOG_FORMAT or text")
    run.set_defaults(func=_run)

    approve = sub.add_parser("approve", parents=_common(cluster=True), help="approve a PolicyProposal")
    approve.add_argument("name")
    approve.add_argument("--allow-unproven", action="store_true",
                         help="also set spec.allowUnproven: apply although no engine proved the behaviour")
    approve.set_defaults(func=_approve)

    bench = sub.add_parser("bench", parents=_common(data=True),
                           help="score generation on labelled cases with the real engine")
    bench.add_argument("--cases", type=Path, required=True, help="a policy-bench cases file (format 1)")
    bench.add_argument("--json", action="store_true", help="one JSON object on stdout (same as --format json)")
    bench.add_argument("--analyser", "--analyzer", dest="analyzer", default="auto",
                       choices=["auto", "offline", "claude", "all"],
                       help="auto: PATTERNPOLICY_ANALYSER, offline when unset; all: offline and claude")
    bench.add_argument("--record", type=Path, default=None, help="write each Claude request and answer to DIR")
    bench.add_argument("--replay", type=Path, default=None,
                       help="answer Claude requests from DIR/<request-id>.answer.json (see docs/analysers.md)")
    bench.set_defaults(func=_bench)

    diff = sub.add_parser("diff", parents=_common(cluster=True, data=True),
                          help="what a proposal would change against the applied policies (exit 1: it would)")
    diff.add_argument("name", help="a PolicyProposal (or a Pattern: its newest proposal)")
    diff.set_defaults(func=_diff)

    doctor = sub.add_parser("doctor", parents=_common(cluster=True, data=True),
                            help="what policy engines the cluster runs and which one is used")
    doctor.add_argument("--engine", default="auto", choices=ENGINES)
    doctor.add_argument("--strict", "--fail-on-warning", dest="strict", action="store_true",
                        help="exit 1 on warnings too (e.g. policies stored but not enforced)")
    doctor.set_defaults(func=_doctor)

    exp = sub.add_parser("export", parents=_common(cluster=True, data=True),
                         help="write the policies a cluster applied (or proposed) as GitOps files")
    exp.add_argument("-o", "--output", type=Path, required=True)
    exp.add_argument("--include-pending", action="store_true", help="also proposals still waiting for approval")
    exp.set_defaults(func=_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = bool(args.debug)
    try:
        if args.verb != "run":  # the operator sets up its own logging (kopf's object-aware formatters)
            logs.configure(logs.chosen_format(), logs.chosen_level(logging.WARNING, args.verbose, debug))
        return int(args.func(args))
    except (Exception, KeyboardInterrupt) as exc:
        if debug:
            raise
        code, message = classify(exc)
        print(f"error: {message}", file=sys.stderr)
        return int(code)


if __name__ == "__main__":
    sys.exit(main())
