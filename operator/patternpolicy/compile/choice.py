"""Choosing the engine from what the cluster serves (pure; the facts come from the adapters)."""

from __future__ import annotations

from dataclasses import dataclass, field

from patternpolicy.compile.engines import CLUSTER_POLICY, VAP_V1, EngineTarget

KYVERNO_INSTALL = "https://kyverno.io/docs/installation/"
_VP_ORDER = ("v1", "v1beta1", "v1alpha1")


@dataclass
class ClusterFacts:
    kubernetes_version: str = ""
    validating_policy_versions: list[str] = field(default_factory=list)  # served policies.kyverno.io versions
    cluster_policy: bool = False
    vap: bool = False
    kyverno_version: tuple[int, int, int] | None = None
    kyverno_ready: bool | None = None  # None: no admission controller found
    kyverno_webhooks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EngineChoice:
    target: EngineTarget | None
    reason: str
    warnings: tuple[str, ...] = ()


def parse_version(text: str) -> tuple[int, int, int] | None:
    digits = text.lstrip("v").split("-")[0].split(".")
    try:
        major, minor, patch = (int(d) for d in [*digits, "0", "0"][:3])
    except ValueError:
        return None
    return major, minor, patch


def _validating_policy(facts: ClusterFacts) -> EngineTarget | None:
    for version in _VP_ORDER:
        if version in facts.validating_policy_versions:
            return EngineTarget("ValidatingPolicy", f"policies.kyverno.io/{version}")
    return None


def _cluster_policy(facts: ClusterFacts) -> EngineTarget:
    rule_level = facts.kyverno_version is None or facts.kyverno_version >= (1, 13, 0)
    return EngineTarget(CLUSTER_POLICY.engine, CLUSTER_POLICY.api_version, rule_level_failure_action=rule_level)


def _warnings(facts: ClusterFacts, target: EngineTarget) -> tuple[str, ...]:
    if target.engine == "ValidatingAdmissionPolicy":
        return ()
    if facts.kyverno_ready is None:
        return ("Kyverno's CRDs are installed but no Kyverno admission controller was found: policies will be "
                "stored but not enforced",)
    if not facts.kyverno_ready:
        return ("the Kyverno admission controller is not ready: policies are not enforced until it is",)
    return ()


def choose_engine(facts: ClusterFacts, requested: str = "auto") -> EngineChoice:
    vp, vap = _validating_policy(facts), VAP_V1 if facts.vap else None
    cp = _cluster_policy(facts) if facts.cluster_policy else None
    kyverno = ".".join(map(str, facts.kyverno_version)) if facts.kyverno_version else "unknown version"
    if requested == "ValidatingPolicy":
        if vp is None:
            return EngineChoice(None, f"ValidatingPolicy requested but policies.kyverno.io is not served; "
                                      f"install Kyverno 1.14+ ({KYVERNO_INSTALL})")
        return EngineChoice(vp, f"requested; Kyverno {kyverno} serves {vp.api_version}", _warnings(facts, vp))
    if requested == "ClusterPolicy":
        if cp is None:
            return EngineChoice(None, f"ClusterPolicy requested but kyverno.io ClusterPolicy is not served; "
                                      f"install Kyverno ({KYVERNO_INSTALL})")
        return EngineChoice(cp, f"requested; Kyverno {kyverno}", _warnings(facts, cp))
    if requested == "ValidatingAdmissionPolicy":
        if vap is None:
            return EngineChoice(None, "ValidatingAdmissionPolicy requested but admissionregistration.k8s.io/v1 "
                                      "validatingadmissionpolicies is not served (Kubernetes 1.30+ needed)")
        return EngineChoice(vap, f"requested; Kubernetes {facts.kubernetes_version}")
    if vp is not None:
        return EngineChoice(vp, f"Kyverno ({kyverno}) serves {vp.api_version}: CEL ValidatingPolicy comes first",
                            _warnings(facts, vp))
    if cp is not None:
        return EngineChoice(cp, f"Kyverno {kyverno} serves ClusterPolicy but not ValidatingPolicy (before 1.14)",
                            _warnings(facts, cp))
    if vap is not None:
        return EngineChoice(vap, f"no Kyverno found; Kubernetes {facts.kubernetes_version} enforces "
                                 f"ValidatingAdmissionPolicy natively (install Kyverno for more: {KYVERNO_INSTALL})")
    return EngineChoice(None, f"no policy engine: install Kyverno ({KYVERNO_INSTALL}) or use Kubernetes 1.30+ "
                              "(ValidatingAdmissionPolicy)")
