"""The offline analyser: deterministic, no network, declines when unsure.

Each detector recognises one family of intents and extracts its parameters.
A wrong policy is worse than none, so a pattern is enforced only when every
intent the detectors saw could be turned into a rule, and every normative
clause of the description is accounted for by a rule that implements all of
it (accounting.py); otherwise the decline quotes the clause not understood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from patternpolicy.analysis.offline import (
    network_rules,
    object_rules,
    pod_extra,
    pod_security,
    rbac_rules,
    reference_rules,
    workload_rules,
)
from patternpolicy.analysis.offline.accounting import Vocabulary, account
from patternpolicy.analysis.offline.clauses import split_clauses
from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.scope import unconfigured_scope
from patternpolicy.analysis.offline.text import PatternText
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.entries import split_camel
from patternpolicy.discovery.stage import Discovery
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Analysis

Detector = Callable[[Context], Finding | None]

DETECTORS: tuple[Detector, ...] = (
    object_rules.required_labels,
    object_rules.min_replicas,
    workload_rules.privileged,
    workload_rules.latest_tag,
    workload_rules.resources,
    *pod_security.DETECTORS,
    *network_rules.DETECTORS,
    *rbac_rules.DETECTORS,
    *pod_extra.DETECTORS,
    *reference_rules.DETECTORS,
)

RULE_BEARING = ("normative", "headline", "restatement")
SUPPORTED = ("labels", "replicas", "resources requests/limits", "probes", "image tags and registries",
             "Pod Security Standards controls", "host namespaces/ports/paths", "Service types and external IPs",
             "Ingress hosts/TLS/default backends", "RBAC bindings and risky resources", "tolerations and affinity",
             "references to other kinds (read from the kind's schema)", "fields spelled out as spec.x.y")


def kind_words(catalog: KindCatalog) -> frozenset[str]:
    """Every way the text may name a served kind: `deployment`, `statefulset`, `stateful`/`set` words."""
    words: set[str] = set()
    for kind in catalog.kinds:
        words |= {kind.kind.lower(), kind.plural.lower(), *split_camel(kind.kind).split()}
    return frozenset(words)


class OfflineAnalyzer:
    name = "offline"

    def analyze(self, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Analysis:
        return self._analyze(Context.build(pattern, catalog, discovery))

    def _analyze(self, ctx: Context) -> Analysis:
        # Detectors read only the sentences about the rule (what it is, its title, verdicts on it):
        # words in descriptions, notes and recommendations neither trigger a rule nor set its parameters.
        clauses = split_clauses(ctx.pattern.spec.description)
        normative = [c.text for c in clauses if c.normative]
        ctx = replace(ctx, text=PatternText(".\n".join(c.text for c in clauses if c.kind in RULE_BEARING)))
        findings = [f for f in (detect(ctx) for detect in DETECTORS) if f is not None]
        if not findings:
            unread = f"not understood: '{normative[0]}'; " if normative else ""
            return Analysis.declined(
                self.name,
                f"not confident: {unread}no intent the offline analyser understands was found "
                f"(it understands: {', '.join(SUPPORTED)}); configure the Claude analyser for other patterns",
            )
        words = Vocabulary(kind_words(ctx.catalog), frozenset(k.kind for k in ctx.described()))
        accounted = account(ctx.pattern.spec.description, findings, words)
        if accounted.problem.startswith("contradicts itself"):
            return Analysis.declined(self.name, f"not confident: {accounted.problem}")
        # What the text says that no rule implements comes first; then what detectors could not turn into rules.
        reasons = [accounted.problem] if accounted.problem else []
        reasons += [f"{f.intent}: {f.decline}" for f in findings if f.decline]
        if reasons:
            return Analysis.declined(self.name, f"not confident: {'; '.join(reasons)}")
        findings = accounted.findings
        if not findings:
            return Analysis.declined(
                self.name, "not confident: no sentence states a rule (what must or must not be); "
                "background, recommendations and notes about the policy are not enforced")
        scope_problem = unconfigured_scope(ctx)
        if scope_problem:
            return Analysis.declined(self.name, f"not confident: {scope_problem}")
        rules = [rule for f in findings for rule in f.rules]
        return Analysis(analyzer=self.name, enforceable=True, rules=rules)
