"""The `patternpolicy` command (also a kubectl plugin as `kubectl-patternpolicy`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from patternpolicy import __version__


def _generate(args: argparse.Namespace) -> int:
    from patternpolicy.compile.engines import OFFLINE_DEFAULTS
    from patternpolicy.discovery.catalog import KindCatalog
    from patternpolicy.schemas import SchemaError, schema_source
    from patternpolicy.services.analyzers import AnalyzerNotConfigured, choose_analyzer
    from patternpolicy.services.files import crd_documents, load_crd_kinds
    from patternpolicy.services.generate import generate, render_report
    from patternpolicy.services.kind_index import fill, open_index
    from patternpolicy.validate.field_check import make_field_checker

    missing = [p for p in args.paths + (args.crds or []) if not p.exists()]
    if missing:
        print(f"error: no such file or directory: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
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
                          field_check=field_check, crds=crds)
    except (FileExistsError, AnalyzerNotConfigured, SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if index is not None:
            index.close()
    report.problems[:0] = crd_problems
    print(render_report(report), end="")
    print(f"\nwrote {args.output}/report.md and report.json")
    return 0 if report.ok and not crd_problems else 1


def _run(args: argparse.Namespace) -> int:
    from patternpolicy.handlers.main import run_operator

    return run_operator(namespace=args.namespace, standalone=args.standalone)


def _approve(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kube import KubeError, approve_proposal, get_pattern, get_proposal, use_kubeconfig
    from patternpolicy.reconcile.approval import approval_refusal

    try:
        use_kubeconfig(args.kubeconfig)
        proposal = get_proposal(args.name)
        if proposal is None:
            raise KubeError(f"PolicyProposal {args.name} not found")
        pattern = get_pattern(str((proposal.get("spec") or {}).get("patternRef", {}).get("name", "")))
        refusal = approval_refusal(proposal, pattern, args.allow_unproven)
        if refusal:
            print(f"error: not approved: {refusal}", file=sys.stderr)
            return 1
        message = approve_proposal(args.name, proposal["metadata"]["resourceVersion"], args.allow_unproven)
    except KubeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kyverno_cli import KyvernoNotFound, find_kyverno
    from patternpolicy.discovery.catalog import KindCatalog
    from patternpolicy.schemas import schema_source
    from patternpolicy.services.analyzers import AnalyzerNotConfigured, bench_analyzers
    from patternpolicy.services.bench import BadCases, as_json, load_cases, render_table, run_case, summarise
    from patternpolicy.validate.field_check import make_field_checker

    try:
        cases = load_cases(args.cases)
    except BadCases as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if find_kyverno() is None:
        print(f"error: {KyvernoNotFound.__name__}: the benchmark scores with the real Kyverno CLI; "
              "set PATTERNPOLICY_KYVERNO or run `make binaries`", file=sys.stderr)
        return 2
    from patternpolicy.services.kind_index import fill, open_index

    source = schema_source()
    catalog = KindCatalog.builtin()
    index, _ = open_index()  # the same kind resolution as `generate` and the operator
    if index is not None:
        fill(index, catalog, [])
    catalog = catalog.searchable(index, source)
    field_check = make_field_checker(source)
    try:
        with bench_analyzers(args.analyzer, field_check, record=args.record, replay=args.replay) as analyzers:
            results = [run_case(case, analyzer, catalog, field_check) for analyzer in analyzers for case in cases]
    except AnalyzerNotConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = summarise(results)
    print(as_json(len(cases), summary, results) if args.json else render_table(len(cases), summary, results))
    return 1 if any(r.outcome == "error" for r in results) else 0


def _diff(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kube import KubeError, get_proposal, list_proposals, use_kubeconfig
    from patternpolicy.reconcile.diff import policy_diff, summarize
    from patternpolicy.services.apply import applied_policies_of

    try:
        use_kubeconfig(args.kubeconfig)
        proposal = get_proposal(args.name)
        if proposal is None:  # a Pattern name: its newest proposal
            candidates = list_proposals(args.name)
            proposal = candidates[-1] if candidates else None
        if proposal is None:
            print(f"error: no PolicyProposal or Pattern named {args.name!r}", file=sys.stderr)
            return 1
        name = proposal["metadata"]["name"]
        pattern = proposal["spec"]["patternRef"]["name"]
        applied, applied_by = applied_policies_of(pattern, exclude=name)
    except KubeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    diff = policy_diff(applied, proposal["spec"].get("policies") or [],
                       applied_label=",".join(applied_by) or "applied", proposed_label=name)
    print(f"# {name} ({pattern}): {summarize(diff)}")
    print(diff, end="")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.cluster_facts import read_facts
    from patternpolicy.adapters.kube import KubeError, use_kubeconfig
    from patternpolicy.compile.choice import choose_engine

    try:
        use_kubeconfig(args.kubeconfig)
        facts = read_facts()
    except KubeError as exc:
        print(f"error: cannot read the cluster: {exc}", file=sys.stderr)
        return 2
    kyverno = ".".join(map(str, facts.kyverno_version)) if facts.kyverno_version else "unknown"
    controller = {None: "not found", True: f"ready (version {kyverno})", False: f"NOT ready (version {kyverno})"}
    lines = [
        f"Kubernetes:                   {facts.kubernetes_version}",
        f"Kyverno ValidatingPolicy CRD: {', '.join(facts.validating_policy_versions) or 'not installed'}",
        f"Kyverno ClusterPolicy CRD:    {'installed' if facts.cluster_policy else 'not installed'}",
        f"Kyverno admission controller: {controller[facts.kyverno_ready]}",
        f"Kyverno webhooks:             {', '.join(facts.kyverno_webhooks) or 'none registered'}",
        f"ValidatingAdmissionPolicy:    {'served' if facts.vap else 'not served'}",
    ]
    choice = choose_engine(facts, args.engine)
    lines.append(f"engine {args.engine}:{' ' * (22 - len(args.engine))}"
                 f"{choice.target.describe() if choice.target else 'none'}: {choice.reason}")
    lines += [f"warning: {w}" for w in choice.warnings]
    print("\n".join(lines))
    return 0 if choice.target else 1


def _export(args: argparse.Namespace) -> int:
    from patternpolicy.adapters.kube import KubeError, use_kubeconfig
    from patternpolicy.services.export import export
    from patternpolicy.services.generate import render_report

    try:
        use_kubeconfig(args.kubeconfig)
        report = export(args.output, include_pending=args.include_pending)
    except (KubeError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(render_report(report), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patternpolicy", description=__doc__)
    parser.add_argument("--version", action="version", version=f"patternpolicy {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True)

    gen = sub.add_parser("generate", help="write policies for Pattern files (offline, no cluster)")
    gen.add_argument("paths", nargs="+", type=Path, help="Pattern files or directories")
    gen.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    gen.add_argument("--crds", type=Path, action="append", help="CRD files or directories for custom kinds")
    gen.add_argument("--engine", default="auto",
                     choices=["auto", "ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"],
                     help="auto: each pattern's own choice, ValidatingPolicy by default")
    gen.add_argument("--kubernetes-version", default="1.36", help="schemas of built-in kinds to check fields against")
    gen.add_argument("--no-verify", action="store_true", help="skip the Kyverno CLI behaviour check")
    gen.add_argument("--analyser", "--analyzer", dest="analyzer", default="auto", choices=["auto", "offline", "claude"],
                     help="auto: PATTERNPOLICY_ANALYSER, offline when unset; claude needs an API key")
    gen.set_defaults(func=_generate)

    run = sub.add_parser("run", help="run the operator")
    run.add_argument("--namespace", default=None, help="namespace of the operator (for its own exclusions)")
    run.add_argument("--standalone", action="store_true", help="no peering (single replica)")
    run.set_defaults(func=_run)

    approve = sub.add_parser("approve", help="approve a PolicyProposal")
    approve.add_argument("name")
    approve.add_argument("--kubeconfig", default=None)
    approve.add_argument("--allow-unproven", action="store_true",
                         help="also set spec.allowUnproven: apply although no engine proved the behaviour")
    approve.set_defaults(func=_approve)

    bench = sub.add_parser("bench", help="score generation on labelled cases with the real engine")
    bench.add_argument("--cases", type=Path, required=True, help="a policy-bench cases file (format 1)")
    bench.add_argument("--json", action="store_true", help="one JSON object on stdout")
    bench.add_argument("--analyser", "--analyzer", dest="analyzer", default="auto",
                       choices=["auto", "offline", "claude", "all"],
                       help="auto: PATTERNPOLICY_ANALYSER, offline when unset; all: offline and claude")
    bench.add_argument("--record", type=Path, default=None, help="write each Claude request and answer to DIR")
    bench.add_argument("--replay", type=Path, default=None,
                       help="answer Claude requests from DIR/<request-id>.answer.json (see docs/analysers.md)")
    bench.set_defaults(func=_bench)

    diff = sub.add_parser("diff", help="what a proposal would change against the applied policies")
    diff.add_argument("name", help="a PolicyProposal (or a Pattern: its newest proposal)")
    diff.add_argument("--kubeconfig", default=None)
    diff.set_defaults(func=_diff)

    doctor = sub.add_parser("doctor", help="what policy engines the cluster runs and which one is used")
    doctor.add_argument("--kubeconfig", default=None)
    doctor.add_argument("--engine", default="auto",
                        choices=["auto", "ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"])
    doctor.set_defaults(func=_doctor)

    exp = sub.add_parser("export", help="write the policies a cluster applied (or proposed) as GitOps files")
    exp.add_argument("-o", "--output", type=Path, required=True)
    exp.add_argument("--include-pending", action="store_true", help="also proposals still waiting for approval")
    exp.add_argument("--kubeconfig", default=None)
    exp.set_defaults(func=_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
