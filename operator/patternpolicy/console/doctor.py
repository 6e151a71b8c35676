"""`patternpolicy doctor` as data (for --format json|yaml) and as the table people read."""

from __future__ import annotations

from typing import Any

from patternpolicy.compile.choice import ClusterFacts, EngineChoice


def doctor_data(facts: ClusterFacts, choice: EngineChoice, requested: str) -> dict[str, Any]:
    kyverno = ".".join(map(str, facts.kyverno_version)) if facts.kyverno_version else None
    return {
        "kubernetes": facts.kubernetes_version,
        "kyverno": {"version": kyverno, "ready": facts.kyverno_ready,
                    "validatingPolicyVersions": list(facts.validating_policy_versions),
                    "clusterPolicy": facts.cluster_policy, "webhooks": list(facts.kyverno_webhooks)},
        "validatingAdmissionPolicy": facts.vap,
        "engine": {"requested": requested, "chosen": choice.target.describe() if choice.target else None,
                   "reason": choice.reason},
        "warnings": list(choice.warnings),
    }


def doctor_table(data: dict[str, Any]) -> str:
    kyverno = data["kyverno"]
    version = kyverno["version"] or "unknown"
    controller = {None: "not found", True: f"ready (version {version})",
                  False: f"NOT ready (version {version})"}[kyverno["ready"]]
    engine = data["engine"]
    lines = [
        f"Kubernetes:                   {data['kubernetes']}",
        f"Kyverno ValidatingPolicy CRD: {', '.join(kyverno['validatingPolicyVersions']) or 'not installed'}",
        f"Kyverno ClusterPolicy CRD:    {'installed' if kyverno['clusterPolicy'] else 'not installed'}",
        f"Kyverno admission controller: {controller}",
        f"Kyverno webhooks:             {', '.join(kyverno['webhooks']) or 'none registered'}",
        f"ValidatingAdmissionPolicy:    {'served' if data['validatingAdmissionPolicy'] else 'not served'}",
        f"engine {engine['requested']}:{' ' * (22 - len(engine['requested']))}"
        f"{engine['chosen'] or 'none'}: {engine['reason']}",
    ]
    lines += [f"warning: {w}" for w in data["warnings"]]
    return "\n".join(lines) + "\n"
