"""The offline analyser: deterministic, no network, declines when unsure.

Each detector recognises one family of intents and extracts its parameters.
A wrong policy is worse than none, so a pattern is enforced only when every
intent the detectors saw could be turned into a rule.
"""

from __future__ import annotations

from collections.abc import Callable

from patternpolicy.analysis.offline import (
    network_rules,
    object_rules,
    pod_extra,
    pod_security,
    rbac_rules,
    reference_rules,
    workload_rules,
)
from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.scope import unconfigured_scope
from patternpolicy.discovery.catalog import KindCatalog
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

SUPPORTED = ("labels", "replicas", "resources requests/limits", "probes", "image tags and registries",
             "Pod Security Standards controls", "host namespaces/ports/paths", "Service types and external IPs",
             "Ingress hosts/TLS/default backends", "RBAC bindings and risky resources", "tolerations and affinity",
             "references to other kinds (read from the kind's schema)", "fields spelled out as spec.x.y")


class OfflineAnalyzer:
    name = "offline"

    def analyze(self, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Analysis:
        return self._analyze(Context.build(pattern, catalog, discovery))

    def _analyze(self, ctx: Context) -> Analysis:
        findings = [f for f in (detect(ctx) for detect in DETECTORS) if f is not None]
        if not findings:
            return Analysis.declined(
                self.name,
                "not confident: no intent the offline analyser understands was found "
                f"(it understands: {', '.join(SUPPORTED)}); configure the Claude analyser for other patterns",
            )
        declined = [f for f in findings if f.decline]
        if declined:
            reasons = "; ".join(f"{f.intent}: {f.decline}" for f in declined)
            return Analysis.declined(self.name, f"not confident: {reasons}")
        scope_problem = unconfigured_scope(ctx)
        if scope_problem:
            return Analysis.declined(self.name, f"not confident: {scope_problem}")
        rules = [rule for f in findings for rule in f.rules]
        return Analysis(analyzer=self.name, enforceable=True, rules=rules)
