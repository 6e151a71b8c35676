"""Rules over pod specs, valid for Pods and every pod-template owner.

The policy matches Pods and the controllers explicitly and reads the pod spec
through a variable, so the same CEL runs unchanged on every engine (Kyverno's
autogen rewrites only single-rule Pod policies, and VAP has no autogen).
"""

from __future__ import annotations

import copy
from typing import Any

from patternpolicy.discovery.catalog import POD_CONTROLLERS, KindCatalog
from patternpolicy.models.rules import KindRef, Sample, Variable, Verdict

POD_SPEC = Variable(
    name="podSpec",
    expression=(
        "object.kind == 'Pod' ? object.spec : "
        "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"
    ),
)
CONTAINERS = Variable(
    name="containers",
    expression=(
        "variables.podSpec.containers"
        " + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])"
        " + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])"
    ),
)
POD_VARIABLES = [POD_SPEC, CONTAINERS]
POD_METADATA = Variable(
    name="podMetadata",
    expression=(
        "object.kind == 'Pod' ? object.metadata : (object.kind == 'CronJob' ? "
        "(has(object.spec.jobTemplate.spec.template.metadata) ? object.spec.jobTemplate.spec.template.metadata : {})"
        " : (has(object.spec.template.metadata) ? object.spec.template.metadata : {}))"
    ),
)

# Paths (from `object`) at which each kind keeps its pod spec; the field checker uses them.
POD_SPEC_PATHS = {
    "Pod": "spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}
DEFAULT_POD_SPEC_PATH = "spec.template.spec"


def pod_kinds(catalog: KindCatalog) -> list[KindRef]:
    pod = catalog.by_kind("Pod")
    return ([pod] if pod else []) + catalog.pod_controllers()


def pod_spec_path(kind: str) -> str:
    return POD_SPEC_PATHS.get(kind, DEFAULT_POD_SPEC_PATH)


def container(name: str = "app", image: str = "registry.example.com/team/app:1.4.2",
              **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **fields}


def _controller_spec(kind: str, rule_id: str, template: dict[str, Any]) -> dict[str, Any]:
    """A controller's spec around a pod template, where the kind keeps it (see POD_SPEC_PATHS)."""
    if kind == "CronJob":
        return {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    if kind == "Job":
        return {"template": template}
    selector: dict[str, Any] = {"app": rule_id} if kind == "ReplicationController" else {
        "matchLabels": {"app": rule_id}}
    return {**({} if kind == "DaemonSet" else {"replicas": 1}), "selector": selector, "template": template}


def pod_samples(rule_id: str, spec: dict[str, Any], expect: Verdict, variant: str, targets: list[KindRef],
                labels: dict[str, str] | None = None) -> list[Sample]:
    """The same pod spec as a Pod and as one controller, each only when the rule governs its kind.

    A sample of a kind the rule does not match proves nothing (the engine never judges it): the
    controller is a Deployment when the rule governs Deployments, else the first pod controller it governs.
    """
    meta_labels = {"app": rule_id, **(labels or {})}
    metadata = {"name": f"{variant}-{rule_id}", "namespace": "default", "labels": meta_labels}
    samples = []
    if any(k.kind == "Pod" for k in targets):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": copy.deepcopy(metadata), "spec": copy.deepcopy(spec)}
        samples.append(Sample(resource=pod, expect=expect))
    controller = next((k for name in POD_CONTROLLERS for k in targets if k.kind == name), None)
    if controller is not None:
        template = {"metadata": {"labels": dict(meta_labels)}, "spec": copy.deepcopy(spec)}
        samples.append(Sample(resource={
            "apiVersion": controller.api_version, "kind": controller.kind, "metadata": copy.deepcopy(metadata),
            "spec": _controller_spec(controller.kind, rule_id, template)}, expect=expect))
    return samples
