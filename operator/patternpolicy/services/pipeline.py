"""One pattern through analysis, field checks and compilation (no I/O here).

The operator and the offline `generate` command both call this, so a policy
file written for GitOps is exactly what the operator would propose.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from patternpolicy import metrics
from patternpolicy.adapters.anthropic_api import ModelError
from patternpolicy.analysis.base import Analyzer
from patternpolicy.compile.engines import OFFLINE_DEFAULTS, EngineTarget, compile_rule
from patternpolicy.compile.scope import sample_namespace
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import Discovery, discover
from patternpolicy.models.pattern import Pattern
from patternpolicy.models.rules import Analysis, KindRef, Rule

FieldCheck = Callable[[Rule], list[str]]


class PipelineError(Exception):
    """The pattern cannot be processed as asked; the message says why."""


@dataclass(frozen=True)
class DroppedRule:
    rule: str
    reasons: list[str]


@dataclass
class Generated:
    pattern: Pattern
    analysis: Analysis
    discovery: Discovery = field(default_factory=Discovery)
    policies: list[dict[str, Any]] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[DroppedRule] = field(default_factory=list)

    @property
    def enforceable(self) -> bool:
        return bool(self.policies)

    @property
    def reason(self) -> str:
        if self.policies:
            return ""
        if self.dropped:
            return "every rule was dropped: " + "; ".join(
                f"{d.rule}: {', '.join(d.reasons)}" for d in self.dropped)
        return self.analysis.reason


def run_pipeline(pattern: Pattern, analyzer: Analyzer, catalog: KindCatalog,
                 field_check: FieldCheck | None = None, engine: EngineTarget | None = None) -> Generated:
    """Discover kinds, analyse, check fields, compile (ARCHITECTURE.md's flow, in that order).

    `engine`: what the cluster runs (detected); None offline, where the pattern's choice or the default wins.
    """
    target = engine or OFFLINE_DEFAULTS[pattern.spec.policy_generation.engine]
    if not pattern.spec.policy_generation.enabled:
        return Generated(pattern, Analysis.declined("none", "policy generation is disabled for this pattern"))
    started = time.perf_counter()
    discovery = discover(pattern, catalog)
    try:
        analysis = analyzer.analyze(pattern, catalog, discovery)
    except ModelError:
        metrics.MODEL_ERRORS.labels(analyzer.name).inc()
        metrics.ANALYSER_CALLS.labels(analyzer.name, "error").inc()
        raise
    except Exception:
        metrics.ANALYSER_CALLS.labels(analyzer.name, "error").inc()
        raise
    if analysis.input_tokens:
        metrics.MODEL_TOKENS.labels(analysis.analyzer).inc(analysis.input_tokens)
    # The status and the report show what discovery found, whichever analyser ran.
    analysis = analysis.model_copy(update={"kinds_found": discovery.kinds_found(),
                                           "notes": [*analysis.notes, *discovery.notes]})
    result = Generated(pattern, analysis, discovery)
    for rule in analysis.rules:
        problems = field_check(rule) if field_check else []
        if problems:
            result.dropped.append(DroppedRule(rule.id, problems))
            continue
        objects = compile_rule(pattern, rule, target)
        result.policies += objects
        name = objects[0]["metadata"]["name"]
        namespace = sample_namespace(pattern.spec.policy_generation.namespaces)
        result.tests += [
            {"policy": name, "rule": rule.id, "expect": s.expect,
             "resource": _placed(s.resource, namespace, rule.targets, keep=rule.namespace_sensitive)}
            for s in rule.samples
        ]
    metrics.ANALYSER_CALLS.labels(analysis.analyzer, "enforceable" if result.enforceable else "declined").inc()
    metrics.GENERATION_SECONDS.labels(analysis.analyzer).observe(time.perf_counter() - started)
    return result


def _placed(resource: dict[str, Any], namespace: str, targets: list[KindRef], keep: bool = False) -> dict[str, Any]:
    """Samples of namespaced kinds go where the policy applies, or the engine would skip them (unless the rule
    reads the namespace: `keep`); samples of cluster-scoped kinds have no namespace, whatever was written."""
    placed = copy.deepcopy(resource)
    meta = placed.get("metadata")
    if not isinstance(meta, dict):
        return placed
    kind = next((k for k in targets if (k.api_version, k.kind) == (placed.get("apiVersion"), placed.get("kind"))), None)
    if kind is not None and not kind.namespaced:
        meta.pop("namespace", None)
    elif not keep and "namespace" in meta:
        meta["namespace"] = namespace
    return placed
