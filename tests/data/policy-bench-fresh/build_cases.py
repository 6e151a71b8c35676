#!/usr/bin/env python3
"""Builds cases.json and reference/*.yaml of the fresh policy-bench case set.

Written from knowledge of Kubernetes practice, independently of the analyser.
Never tune the analyser on these cases.  Run: python3 build_cases.py
"""
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _lib import (C, ctl, hpa, ingress, binding, key, ns_, obj, pdb, pod, pvc, res,  # noqa: E402
                  role, svc, vp)

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = []


class V:
    def __init__(self, o, verdict):
        self.o, self.verdict = o, verdict


def A(o):
    return V(o, "allow")


def D(o):
    return V(o, "deny")


def case(cid, category, title, description, items, policy=None, context=()):
    resources, expected = [], {}
    for it in items:
        resources.append(it.o)
        k = key(it.o)
        assert k not in expected, (cid, k)
        expected[k] = it.verdict
    resources.extend(context)
    CASES.append({"id": "fresh/" + cid, "category": category, "title": title,
                  "description": description, "resources": resources,
                  "expected": expected, "_policy": policy})


def pol(cid, kinds, validations, variables=None, pod=False):
    return vp("fresh-" + cid, kinds, validations, variables, pod)


IMG = "registry.example.com/shop/api:1.8.2"
IMG2 = "registry.example.com/shop/worker:2.3.0"
OKRES = res(cpu_l="500m", mem_l="512Mi", cpu_r="250m", mem_r="256Mi")

# =============================================================== plain requirements
P = "plain"

case("require-cpu-memory-limits", P, "Require CPU and memory limits",
     "Every container of every workload must declare both a CPU limit and a memory limit "
     "in resources.limits, so the scheduler and the kubelet can keep noisy neighbours in check.",
     [A(pod("api-limited", "shop", [C("api", IMG, resources=OKRES)])),
      D(pod("api-mem-only", "shop", [C("api", IMG, resources=res(mem_l="512Mi"))])),
      D(pod("api-sidecar-unlimited", "shop", [C("api", IMG, resources=OKRES),
                                             C("proxy", "envoyproxy/envoy:v1.30.1")])),
      A(ctl("Deployment", "checkout", "shop", [C("web", IMG, resources=OKRES)], replicas=3)),
      D(ctl("Deployment", "cart", "shop", [C("web", IMG)], replicas=2)),
      D(ctl("CronJob", "nightly-report", "shop", [C("report", IMG2, resources=res(cpu_l="1"))])),
      A(ctl("StatefulSet", "ledger", "shop", [C("db", "postgres:16.3", resources=res(cpu_l="2", mem_l="4Gi"))]))],
     pol("require-cpu-memory-limits", [], [(
         "variables.containers.all(c, has(c.resources) && has(c.resources.limits) && "
         "'cpu' in c.resources.limits && 'memory' in c.resources.limits)",
         "every container must set CPU and memory limits")], pod=True))

case("require-team-label-on-namespaces", P, "Namespaces carry an owning team",
     "Every Namespace must carry a `team` label that names the team owning it.",
     [A(ns_("payments", labels={"team": "payments-core"})),
      A(ns_("search", labels={"team": "discovery", "env": "prod"})),
      D(ns_("scratch")),
      D(ns_("legacy-crm", labels={"owner": "crm"}))],
     pol("require-team-label-on-namespaces", ["Namespace"], [(
         "has(object.metadata.labels) && 'team' in object.metadata.labels && "
         "object.metadata.labels['team'] != ''", "label team is required")]))

case("require-readiness-probe-deployments", P, "Deployments need readiness probes",
     "Each container in a Deployment must define a readinessProbe so that rolling updates only "
     "send traffic to pods that are ready.",
     [A(ctl("Deployment", "orders", "shop", [C("api", IMG, readinessProbe={
         "httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5})], replicas=2)),
      D(ctl("Deployment", "inventory", "shop", [C("api", IMG)], replicas=2)),
      D(ctl("Deployment", "gateway", "shop", [
          C("api", IMG, readinessProbe={"tcpSocket": {"port": 8080}}),
          C("metrics", "prom/statsd-exporter:v0.26.1")])),
      A(ctl("Deployment", "search", "shop", [
          C("api", IMG, readinessProbe={"exec": {"command": ["/bin/ready"]}}),
          C("cache", "redis:7.2.5", readinessProbe={"tcpSocket": {"port": 6379}})]))],
     pol("require-readiness-probe-deployments", ["Deployment"], [(
         "object.spec.template.spec.containers.all(c, has(c.readinessProbe))",
         "every container needs a readinessProbe")]))

case("require-run-as-non-root", P, "Run as non-root",
     "Pods must run as a non-root user: set securityContext.runAsNonRoot to true on the pod, "
     "or on every container if the pod does not set it.",
     [A(pod("pod-level-nonroot", "shop", [C("api", IMG)], securityContext={"runAsNonRoot": True, "runAsUser": 10001})),
      A(pod("container-level-nonroot", "shop", [
          C("api", IMG, securityContext={"runAsNonRoot": True}),
          C("proxy", "envoyproxy/envoy:v1.30.1", securityContext={"runAsNonRoot": True})])),
      D(pod("no-security-context", "shop", [C("api", IMG)])),
      D(pod("half-nonroot", "shop", [
          C("api", IMG, securityContext={"runAsNonRoot": True}),
          C("proxy", "envoyproxy/envoy:v1.30.1")])),
      D(pod("nonroot-false", "shop", [C("api", IMG)], securityContext={"runAsNonRoot": False})),
      A(ctl("DaemonSet", "node-agent", "monitoring", [C("agent", "grafana/alloy:v1.2.0")],
            securityContext={"runAsNonRoot": True, "runAsUser": 473})),
      D(ctl("Job", "db-migrate", "shop", [C("migrate", IMG2)]))],
     pol("require-run-as-non-root", [], [(
         "variables.containers.all(c, c.?securityContext.?runAsNonRoot.orValue("
         "variables.spec.?securityContext.?runAsNonRoot.orValue(false)) == true)",
         "pods must run as non-root")], pod=True))

case("require-data-classification-on-pvcs", P, "PVCs carry a data classification",
     "PersistentVolumeClaims must carry a `data-classification` label (for example public, internal, "
     "confidential) so that backups and encryption can be chosen per volume.",
     [A(pvc("postgres-data", "shop", sc="ssd-retain", labels={"data-classification": "confidential"})),
      A(pvc("uploads", "shop", "100Gi", ["ReadWriteMany"], sc="nfs-shared", labels={"data-classification": "internal", "app": "uploads"})),
      D(pvc("scratch-space", "shop", "5Gi", sc="ssd")),
      D(pvc("es-data", "search", "200Gi", sc="ssd", labels={"app": "elasticsearch"}))],
     pol("require-data-classification-on-pvcs", ["PersistentVolumeClaim"], [(
         "object.metadata.?labels.orValue({})[?'data-classification'].orValue('') != ''",
         "label data-classification is required")]))
case("require-tls-on-ingress", P, "Ingresses terminate TLS",
     "Every Ingress must terminate TLS: it must have a `tls` section listing at least one host "
     "and the Secret holding the certificate.",
     [A(ingress("storefront", "shop", ["shop.example.com"], tls=[
         {"hosts": ["shop.example.com"], "secretName": "shop-tls"}])),
      A(ingress("api", "shop", ["api.example.com", "api2.example.com"], tls=[
          {"hosts": ["api.example.com", "api2.example.com"], "secretName": "api-tls"}])),
      D(ingress("status-page", "ops", ["status.example.com"])),
      D(ingress("grafana", "monitoring", ["grafana.example.com"], cls="nginx-internal"))],
     pol("require-tls-on-ingress", ["Ingress"], [(
         "has(object.spec.tls) && size(object.spec.tls) > 0 && object.spec.tls.all(t, "
         "has(t.hosts) && size(t.hosts) > 0 && has(t.secretName))",
         "ingress must configure TLS")]))

SCALE_DOWN = {"scaleDown": {"stabilizationWindowSeconds": 300, "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]}}
case("require-hpa-scale-down-behavior", P, "HPAs define how they scale down",
     "Every HorizontalPodAutoscaler must define a scale-down behaviour (spec.behavior.scaleDown), so "
     "that traffic dips do not remove half the fleet at once.",
     [A(dict(hpa("checkout", "shop", minr=2, maxr=10), spec=dict(hpa("checkout", "shop", minr=2, maxr=10)["spec"], behavior=SCALE_DOWN))),
      A(dict(hpa("search", "search", minr=3, maxr=30), spec=dict(hpa("search", "search", minr=3, maxr=30)["spec"], behavior={
          "scaleDown": {"stabilizationWindowSeconds": 600}, "scaleUp": {"stabilizationWindowSeconds": 0}}))),
      D(hpa("cart", "shop", minr=2, maxr=8)),
      D(dict(hpa("recommendations", "shop", minr=2, maxr=4), spec=dict(hpa("recommendations", "shop", minr=2, maxr=4)["spec"], behavior={
          "scaleUp": {"stabilizationWindowSeconds": 0}})))],
     pol("require-hpa-scale-down-behavior", ["HorizontalPodAutoscaler"], [(
         "has(object.spec.behavior) && has(object.spec.behavior.scaleDown)", "spec.behavior.scaleDown is required")]))
case("require-owner-annotation-configmaps", P, "ConfigMaps name an owner",
     "ConfigMaps must carry an `owner` annotation with the contact responsible for their content.",
     [A(obj("v1", "ConfigMap", "checkout-settings", "shop", annotations={"owner": "team-checkout@example.com"},
            data={"TIMEOUT": "30s"})),
      A(obj("v1", "ConfigMap", "nginx-conf", "edge", {"app": "nginx"}, {"owner": "edge-team", "note": "x"},
            data={"nginx.conf": "worker_processes 2;"})),
      D(obj("v1", "ConfigMap", "feature-flags", "shop", {"app": "flags"}, data={"NEW_UI": "true"})),
      D(obj("v1", "ConfigMap", "old-settings", "shop", annotations={"maintainer": "bob"}, data={"A": "1"}))],
     pol("require-owner-annotation-configmaps", ["ConfigMap"], [(
         "'owner' in object.metadata.?annotations.orValue({})", "annotation owner is required")]))

case("require-image-digest", P, "Pin images by digest",
     "Container images must be pinned by digest: every image reference (including init containers) "
     "must contain `@sha256:`.",
     [A(pod("pinned", "shop", [C("api", "registry.example.com/shop/api@sha256:" + "a" * 64)])),
      A(pod("tag-and-digest", "shop", [C("api", "registry.example.com/shop/api:1.8.2@sha256:" + "b" * 64)])),
      D(pod("tag-only", "shop", [C("api", IMG)])),
      D(pod("init-unpinned", "shop", [C("api", "registry.example.com/shop/api@sha256:" + "c" * 64)],
            initContainers=[C("wait-db", "busybox:1.36")])),
      A(ctl("StatefulSet", "kafka", "streaming", [C("broker", "bitnami/kafka@sha256:" + "d" * 64)], replicas=3)),
      D(ctl("Deployment", "frontend", "shop", [C("web", "nginx:1.27")]))],
     pol("require-image-digest", [], [(
         "variables.allContainers.all(c, c.image.contains('@sha256:'))",
         "images must be pinned by digest")], pod=True))

case("require-networkpolicy-purpose", P, "NetworkPolicies explain themselves",
     "Every NetworkPolicy must carry a `purpose` annotation describing in words which traffic it allows "
     "or blocks.",
     [A(obj("networking.k8s.io/v1", "NetworkPolicy", "default-deny", "shop", annotations={"purpose": "deny all traffic not explicitly allowed"},
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
      A(obj("networking.k8s.io/v1", "NetworkPolicy", "allow-frontend", "shop", annotations={"purpose": "frontend may call the api"},
            spec={"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}]}]})),
      D(obj("networking.k8s.io/v1", "NetworkPolicy", "allow-dns", "shop",
            spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]})),
      D(obj("networking.k8s.io/v1", "NetworkPolicy", "allow-monitoring", "shop", {"team": "obs"}, {"owner": "obs"},
            spec={"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]}]}))],
     pol("require-networkpolicy-purpose", ["NetworkPolicy"], [(
         "object.metadata.?annotations.orValue({})[?'purpose'].orValue('') != ''",
         "annotation purpose is required")]))
case("require-memory-requests", P, "Request memory",
     "Every container must request memory (resources.requests.memory) so pods are scheduled on "
     "nodes with enough room.",
     [A(pod("requests-set", "shop", [C("api", IMG, resources=res(mem_r="256Mi", cpu_r="100m"))])),
      D(pod("cpu-request-only", "shop", [C("api", IMG, resources=res(cpu_r="100m"))])),
      D(ctl("Job", "cpu-limit-only", "shop", [C("run", IMG2, resources=res(cpu_l="1"))])),
      A(ctl("Deployment", "web", "shop", [C("web", IMG, resources=OKRES),
                                         C("log", "fluent/fluent-bit:3.0.7", resources=res(mem_r="64Mi"))])),
      D(ctl("DaemonSet", "log-shipper", "logging", [C("fluent-bit", "fluent/fluent-bit:3.0.7")])),
      A(ctl("CronJob", "cleanup", "shop", [C("cleanup", IMG2, resources=res(mem_r="128Mi"))]))],
     pol("require-memory-requests", [], [(
         "variables.containers.all(c, 'memory' in c.?resources.?requests.orValue({}))",
         "memory request required")], pod=True))

case("require-cronjob-starting-deadline", P, "CronJobs set a starting deadline",
     "CronJobs must set spec.startingDeadlineSeconds so that missed runs are not started hours late "
     "after a controller outage.",
     [A(ctl("CronJob", "backup", "shop", [C("backup", IMG2)], top={"startingDeadlineSeconds": 300})),
      A(ctl("CronJob", "rotate-keys", "security", [C("rotate", IMG2)], schedule="0 3 * * *",
            top={"startingDeadlineSeconds": 600, "concurrencyPolicy": "Forbid"})),
      D(ctl("CronJob", "report", "shop", [C("report", IMG2)], schedule="0 6 * * 1")),
      D(ctl("CronJob", "sync", "shop", [C("sync", IMG2)], top={"concurrencyPolicy": "Forbid"}))],
     pol("require-cronjob-starting-deadline", ["CronJob"], [(
         "has(object.spec.startingDeadlineSeconds)", "startingDeadlineSeconds is required")]))

case("require-app-name-label-on-services", P, "Services carry the app name label",
     "Services must carry the recommended label `app.kubernetes.io/name`.",
     [A(svc("checkout", "shop", labels={"app.kubernetes.io/name": "checkout"})),
      A(svc("search", "search", "ClusterIP", labels={"app.kubernetes.io/name": "search", "tier": "backend"})),
      D(svc("cart", "shop", labels={"app": "cart"})),
      D(svc("legacy", "shop", labels={"app.kubernetes.io/instance": "legacy"}))],
     pol("require-app-name-label-on-services", ["Service"], [(
         "'app.kubernetes.io/name' in object.metadata.?labels.orValue({})",
         "label app.kubernetes.io/name is required")]))

case("require-job-ttl", P, "Finished Jobs are cleaned up",
     "Jobs must set ttlSecondsAfterFinished so that finished Jobs and their pods are garbage "
     "collected.",
     [A(ctl("Job", "migrate-v42", "shop", [C("migrate", IMG2)], top={"ttlSecondsAfterFinished": 3600})),
      A(ctl("Job", "reindex", "search", [C("reindex", IMG2)], top={"ttlSecondsAfterFinished": 0, "backoffLimit": 2})),
      D(ctl("Job", "one-off-export", "shop", [C("export", IMG2)])),
      D(ctl("Job", "seed-data", "shop", [C("seed", IMG2)], top={"backoffLimit": 1}))],
     pol("require-job-ttl", ["Job"], [(
         "has(object.spec.ttlSecondsAfterFinished)", "ttlSecondsAfterFinished is required")]))

case("require-pod-seccomp-profile", P, "Pods set a seccomp profile",
     "Pods must set a seccomp profile at the pod level: spec.securityContext.seccompProfile.type "
     "must be present.",
     [A(pod("runtime-default", "shop", [C("api", IMG)], securityContext={"seccompProfile": {"type": "RuntimeDefault"}})),
      A(pod("localhost-profile", "shop", [C("api", IMG)], securityContext={
          "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/api.json"}})),
      D(pod("no-seccomp", "shop", [C("api", IMG)], securityContext={"runAsNonRoot": True})),
      D(pod("container-only-seccomp", "shop", [C("api", IMG, securityContext={"seccompProfile": {"type": "RuntimeDefault"}})])),
      A(ctl("Deployment", "web", "shop", [C("web", IMG)], securityContext={"seccompProfile": {"type": "RuntimeDefault"}})),
      D(ctl("StatefulSet", "redis", "shop", [C("redis", "redis:7.2.5")]))],
     pol("require-pod-seccomp-profile", [], [(
         "has(variables.spec.securityContext) && has(variables.spec.securityContext.seccompProfile) && "
         "has(variables.spec.securityContext.seccompProfile.type)",
         "pod-level seccompProfile is required")], pod=True))

# =========================================================== conditional requirements
K = "conditional"

DOCKER_SOCK = {"name": "docker-sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}}
CONTAINERD_SOCK = {"name": "containerd-sock", "hostPath": {"path": "/run/containerd/containerd.sock", "type": "Socket"}}
LOGS = {"name": "varlog", "hostPath": {"path": "/var/log"}}

case("conditional-socket-label", K, "Runtime socket mounts need approval label",
     "Pods that mount the container runtime socket (a hostPath volume of /var/run/docker.sock, "
     "/run/containerd/containerd.sock or /var/run/crio/crio.sock) must carry the label "
     "`runtime-access: approved`. Other pods are unaffected.",
     [A(pod("ci-runner", "ci", [C("runner", "gitlab/gitlab-runner:v17.0.0",
                                   volumeMounts=[{"name": "docker-sock", "mountPath": "/var/run/docker.sock"}])],
            labels={"runtime-access": "approved"}, volumes=[DOCKER_SOCK])),
      D(pod("debug-docker", "ci", [C("shell", "docker:26.1-cli",
                                      volumeMounts=[{"name": "docker-sock", "mountPath": "/var/run/docker.sock"}])],
            volumes=[DOCKER_SOCK])),
      D(pod("sock-wrong-label", "ci", [C("shell", "docker:26.1-cli",
                                          volumeMounts=[{"name": "docker-sock", "mountPath": "/var/run/docker.sock"}])],
            labels={"runtime-access": "pending"}, volumes=[DOCKER_SOCK])),
      A(pod("plain-api", "shop", [C("api", IMG)])),
      A(pod("log-reader", "logging", [C("reader", "busybox:1.36", volumeMounts=[{"name": "varlog", "mountPath": "/var/log"}])],
            volumes=[LOGS])),
      D(ctl("DaemonSet", "image-gc", "kube-system", [C("gc", "registry.example.com/ops/image-gc:0.4.1",
                                                       volumeMounts=[{"name": "containerd-sock", "mountPath": "/run/containerd/containerd.sock"}])],
            volumes=[CONTAINERD_SOCK])),
      A(ctl("DaemonSet", "node-exporter-rt", "monitoring", [C("exp", "registry.example.com/ops/rt-exporter:1.0.0",
                                                           volumeMounts=[{"name": "containerd-sock", "mountPath": "/run/containerd/containerd.sock"}])],
            labels={"runtime-access": "approved"}, volumes=[CONTAINERD_SOCK]))],
     pol("conditional-socket-label", [], [(
         "!variables.volumes.exists(v, has(v.hostPath) && v.hostPath.path in "
         "['/var/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/crio/crio.sock', "
         "'/run/docker.sock', '/var/run/containerd/containerd.sock']) || "
         "variables.labels[?'runtime-access'].orValue('') == 'approved'",
         "pods mounting the runtime socket need runtime-access: approved")], pod=True))

case("conditional-loadbalancer-cost-center", K, "LoadBalancers carry a cost center",
     "When a Service is of type LoadBalancer it must carry a `cost-center` annotation, because every "
     "cloud load balancer is billed to a cost center.",
     [A(svc("public-web", "edge", "LoadBalancer", annotations={"cost-center": "cc-4711"})),
      D(svc("public-api", "edge", "LoadBalancer")),
      D(svc("game-server", "games", "LoadBalancer", annotations={"owner": "games"},
            ports=[{"name": "udp", "port": 7777, "protocol": "UDP"}])),
      A(svc("internal-api", "shop")),
      A(svc("metrics", "monitoring", "NodePort", ports=[{"name": "m", "port": 9100, "nodePort": 30910}]))],
     pol("conditional-loadbalancer-cost-center", ["Service"], [(
         "object.spec.?type.orValue('ClusterIP') != 'LoadBalancer' || "
         "'cost-center' in object.metadata.?annotations.orValue({})",
         "LoadBalancer Services need a cost-center annotation")]))

case("conditional-hostpath-readonly", K, "hostPath mounts are read-only",
     "If a pod uses a hostPath volume, every container mount of that volume must be read-only "
     "(volumeMounts[].readOnly: true). Mounts of other volume types are not affected.",
     [A(pod("log-tailer", "logging", [C("tail", "busybox:1.36", volumeMounts=[
         {"name": "varlog", "mountPath": "/var/log", "readOnly": True}])], volumes=[LOGS])),
      D(pod("log-writer", "logging", [C("tail", "busybox:1.36", volumeMounts=[
          {"name": "varlog", "mountPath": "/var/log"}])], volumes=[LOGS])),
      A(pod("cache-user", "shop", [C("api", IMG, volumeMounts=[{"name": "cache", "mountPath": "/cache"}])],
            volumes=[{"name": "cache", "emptyDir": {}}])),
      D(ctl("DaemonSet", "node-probe", "monitoring", [
          C("probe", "registry.example.com/ops/probe:2.0.0", volumeMounts=[
              {"name": "proc", "mountPath": "/host/proc", "readOnly": True},
              {"name": "sys", "mountPath": "/host/sys"}])],
          volumes=[{"name": "proc", "hostPath": {"path": "/proc"}}, {"name": "sys", "hostPath": {"path": "/sys"}}])),
      A(ctl("DaemonSet", "node-probe-ro", "monitoring", [
          C("probe", "registry.example.com/ops/probe:2.0.0", volumeMounts=[
              {"name": "proc", "mountPath": "/host/proc", "readOnly": True},
              {"name": "scratch", "mountPath": "/tmp"}])],
          volumes=[{"name": "proc", "hostPath": {"path": "/proc"}}, {"name": "scratch", "emptyDir": {}}]))],
     pol("conditional-hostpath-readonly", [], [(
         "variables.allContainers.all(c, c.?volumeMounts.orValue([]).all(m, "
         "!(m.name in variables.hostPathNames) || m.?readOnly.orValue(false) == true))",
         "hostPath mounts must be readOnly")],
         variables=[{"name": "hostPathNames", "expression":
                     "variables.volumes.filter(v, has(v.hostPath)).map(v, v.name)"}], pod=True))

GPU = res(extra_l={"nvidia.com/gpu": "1"}, cpu_l="4", mem_l="16Gi")
GPU_TOL = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
case("conditional-gpu-toleration", K, "GPU pods tolerate the GPU taint",
     "Pods that request GPUs (a `nvidia.com/gpu` resource limit on any container) must have a "
     "toleration for the taint key `nvidia.com/gpu`, so they can land on the tainted GPU nodes.",
     [A(pod("trainer", "ml", [C("train", "registry.example.com/ml/train:0.9.0", resources=GPU)], tolerations=GPU_TOL)),
      D(pod("trainer-no-tol", "ml", [C("train", "registry.example.com/ml/train:0.9.0", resources=GPU)])),
      D(pod("trainer-wrong-tol", "ml", [C("train", "registry.example.com/ml/train:0.9.0", resources=GPU)],
            tolerations=[{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}])),
      A(pod("notebook-cpu", "ml", [C("nb", "jupyter/base-notebook:2024-05-27", resources=res(cpu_l="2", mem_l="4Gi"))])),
      D(ctl("Job", "fine-tune", "ml", [C("tune", "registry.example.com/ml/train:0.9.0", resources=GPU)])),
      A(ctl("Deployment", "inference", "ml", [C("serve", "registry.example.com/ml/serve:1.1.0", resources=GPU)],
            tolerations=[{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}]))],
     pol("conditional-gpu-toleration", [], [(
         "!variables.allContainers.exists(c, 'nvidia.com/gpu' in c.?resources.?limits.orValue({}) || "
         "'nvidia.com/gpu' in c.?resources.?requests.orValue({})) || "
         "variables.spec.?tolerations.orValue([]).exists(t, t.?key.orValue('') == 'nvidia.com/gpu')",
         "GPU pods must tolerate nvidia.com/gpu")], pod=True))

def claim(name, size, sc=None):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if sc:
        spec["storageClassName"] = sc
    return {"metadata": {"name": name}, "spec": spec}


case("conditional-statefulset-claim-storage-class", K, "StatefulSet claim templates name a storage class",
     "StatefulSets that declare volumeClaimTemplates must name a storageClassName in every claim "
     "template; StatefulSets without claim templates are not affected.",
     [A(ctl("StatefulSet", "postgres", "shop", [C("db", "postgres:16.3")], replicas=3, top={
         "volumeClaimTemplates": [claim("data", "50Gi", "ssd-retain")]})),
      D(ctl("StatefulSet", "rabbitmq", "shop", [C("mq", "rabbitmq:3.13")], replicas=3, top={
          "volumeClaimTemplates": [claim("data", "10Gi")]})),
      A(ctl("StatefulSet", "memcached", "shop", [C("mc", "memcached:1.6.29")], replicas=2)),
      D(ctl("StatefulSet", "zookeeper", "streaming", [C("zk", "zookeeper:3.9")], replicas=3, top={
          "volumeClaimTemplates": [claim("data", "5Gi", "ssd"), claim("datalog", "5Gi")]})),
      A(ctl("StatefulSet", "kafka", "streaming", [C("broker", "bitnami/kafka:3.7")], replicas=3, top={
          "volumeClaimTemplates": [claim("data", "100Gi", "ssd"), claim("logs", "10Gi", "standard")]}))],
     pol("conditional-statefulset-claim-storage-class", ["StatefulSet"], [(
         "object.spec.?volumeClaimTemplates.orValue([]).all(t, t.spec.?storageClassName.orValue('') != '')",
         "claim templates must name a storageClassName")]))
case("conditional-public-ingress-tls", K, "Public ingresses need TLS",
     "Ingresses whose ingressClassName is `public` must have a tls section. Ingresses of other "
     "classes may serve plain HTTP.",
     [A(ingress("shop", "shop", ["shop.example.com"], cls="public", tls=[{"hosts": ["shop.example.com"], "secretName": "shop-tls"}])),
      D(ingress("promo", "marketing", ["promo.example.com"], cls="public")),
      A(ingress("admin", "ops", ["admin.internal.example.com"], cls="internal")),
      A(ingress("wiki", "ops", ["wiki.internal.example.com"], cls="nginx")),
      D(ingress("docs", "docs", ["docs.example.com"], cls="public", annotations={"owner": "docs"}))],
     pol("conditional-public-ingress-tls", ["Ingress"], [(
         "object.spec.?ingressClassName.orValue('') != 'public' || size(object.spec.?tls.orValue([])) > 0",
         "public ingresses need TLS")]))

case("conditional-hostnetwork-dnspolicy", K, "hostNetwork pods use the cluster DNS",
     "Pods that use hostNetwork must set dnsPolicy to ClusterFirstWithHostNet so they can still "
     "resolve cluster Services.",
     [A(pod("cni-agent", "kube-system", [C("agent", "registry.example.com/net/agent:1.4.0")],
            hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")),
      D(pod("host-debug", "kube-system", [C("sh", "busybox:1.36")], hostNetwork=True)),
      D(pod("host-default-dns", "kube-system", [C("sh", "busybox:1.36")], hostNetwork=True, dnsPolicy="Default")),
      A(pod("regular", "shop", [C("api", IMG)])),
      A(pod("regular-default-dns", "shop", [C("api", IMG)], dnsPolicy="Default")),
      D(ctl("DaemonSet", "lb-speaker", "network", [C("speaker", "registry.example.com/net/speaker:0.14.5")], hostNetwork=True)),
      A(ctl("DaemonSet", "node-dns", "network", [C("dns", "registry.example.com/net/nodelocaldns:1.23.1")],
            hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"))],
     pol("conditional-hostnetwork-dnspolicy", [], [(
         "variables.spec.?hostNetwork.orValue(false) != true || "
         "variables.spec.?dnsPolicy.orValue('') == 'ClusterFirstWithHostNet'",
         "hostNetwork pods need dnsPolicy ClusterFirstWithHostNet")], pod=True))

case("conditional-production-replicas", K, "Production Deployments are redundant",
     "Deployments labelled `env: production` (on the Deployment itself) must run at least 2 replicas. "
     "Other Deployments may run a single replica.",
     [A(ctl("Deployment", "checkout", "shop", [C("api", IMG)], replicas=3, obj_labels={"app": "checkout", "env": "production"})),
      D(ctl("Deployment", "cart", "shop", [C("api", IMG)], replicas=1, obj_labels={"app": "cart", "env": "production"})),
      D(ctl("Deployment", "wishlist", "shop", [C("api", IMG)], obj_labels={"app": "wishlist", "env": "production"})),
      A(ctl("Deployment", "cart-staging", "shop-staging", [C("api", IMG)], replicas=1, obj_labels={"app": "cart", "env": "staging"})),
      A(ctl("Deployment", "tools", "ops", [C("tools", IMG2)], replicas=1))],
     pol("conditional-production-replicas", ["Deployment"], [(
         "object.metadata.?labels.?env.orValue('') != 'production' || object.spec.?replicas.orValue(1) >= 2",
         "production Deployments need at least 2 replicas")]))

case("conditional-tls-secret-owner", K, "TLS Secrets name a certificate owner",
     "Secrets of type kubernetes.io/tls must carry the annotation `cert-owner`, naming who renews "
     "the certificate. Other Secret types are not affected.",
     [A(obj("v1", "Secret", "shop-tls", "shop", annotations={"cert-owner": "edge-team"}, type="kubernetes.io/tls",
            data={"tls.crt": "LS0tLS1CRUdJTg==", "tls.key": "LS0tLS1CRUdJTg=="})),
      D(obj("v1", "Secret", "api-tls", "shop", type="kubernetes.io/tls",
            data={"tls.crt": "LS0tLS1CRUdJTg==", "tls.key": "LS0tLS1CRUdJTg=="})),
      A(obj("v1", "Secret", "db-password", "shop", type="Opaque", data={"password": "c2VjcmV0"})),
      A(obj("v1", "Secret", "registry-creds", "shop", type="kubernetes.io/dockerconfigjson",
            data={".dockerconfigjson": "e30="})),
      D(obj("v1", "Secret", "grafana-tls", "monitoring", annotations={"owner": "obs"}, type="kubernetes.io/tls",
            data={"tls.crt": "LS0tLS1CRUdJTg==", "tls.key": "LS0tLS1CRUdJTg=="}))],
     pol("conditional-tls-secret-owner", ["Secret"], [(
         "object.?type.orValue('Opaque') != 'kubernetes.io/tls' || "
         "'cert-owner' in object.metadata.?annotations.orValue({})",
         "TLS secrets need cert-owner")]))

case("conditional-cluster-admin-binding-approval", K, "cluster-admin bindings are approved",
     "RoleBindings and ClusterRoleBindings that grant the ClusterRole `cluster-admin` must carry the "
     "annotation `approved-by`. Bindings to other roles need no approval annotation.",
     [A(binding("ClusterRoleBinding", "platform-admins", None, "ClusterRole", "cluster-admin",
                [{"kind": "Group", "name": "platform-admins", "apiGroup": "rbac.authorization.k8s.io"}],
                annotations={"approved-by": "ciso"})),
      D(binding("ClusterRoleBinding", "ci-admin", None, "ClusterRole", "cluster-admin",
                [{"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}])),
      D(binding("RoleBinding", "debug-admin", "shop", "ClusterRole", "cluster-admin",
                [{"kind": "User", "name": "alice@example.com", "apiGroup": "rbac.authorization.k8s.io"}])),
      A(binding("RoleBinding", "shop-editors", "shop", "ClusterRole", "edit",
                [{"kind": "Group", "name": "shop-devs", "apiGroup": "rbac.authorization.k8s.io"}])),
      A(binding("ClusterRoleBinding", "view-all", None, "ClusterRole", "view",
                [{"kind": "Group", "name": "auditors", "apiGroup": "rbac.authorization.k8s.io"}]))],
     pol("conditional-cluster-admin-binding-approval", ["RoleBinding", "ClusterRoleBinding"], [(
         "!(object.roleRef.kind == 'ClusterRole' && object.roleRef.name == 'cluster-admin') || "
         "'approved-by' in object.metadata.?annotations.orValue({})",
         "cluster-admin bindings need approved-by")]))

case("conditional-rwx-storage-class", K, "Shared volumes use the NFS class",
     "PersistentVolumeClaims that request the ReadWriteMany access mode must use the storage class "
     "`nfs-shared`; other claims may use any class.",
     [A(pvc("shared-uploads", "shop", "100Gi", ["ReadWriteMany"], sc="nfs-shared")),
      D(pvc("shared-cache", "shop", "20Gi", ["ReadWriteMany"], sc="ssd")),
      D(pvc("shared-fast", "shop", "20Gi", ["ReadWriteOnce", "ReadWriteMany"], sc="fast")),
      A(pvc("db-volume", "shop", "50Gi", ["ReadWriteOnce"], sc="ssd")),
      A(pvc("ro-assets", "shop", "5Gi", ["ReadOnlyMany"], sc="ssd"))],
     pol("conditional-rwx-storage-class", ["PersistentVolumeClaim"], [(
         "!('ReadWriteMany' in object.spec.?accessModes.orValue([])) || "
         "object.spec.?storageClassName.orValue('') == 'nfs-shared'",
         "RWX claims must use nfs-shared")]))

case("conditional-net-admin-infra-label", K, "NET_ADMIN only in infra pods",
     "Any pod with a container that adds the NET_ADMIN capability must be labelled "
     "`network-tier: infra`.",
     [A(pod("vpn-gateway", "network", [C("vpn", "registry.example.com/net/wireguard:1.0.2",
                                         securityContext={"capabilities": {"add": ["NET_ADMIN"]}})],
            labels={"network-tier": "infra"})),
      D(pod("app-with-netadmin", "shop", [C("api", IMG, securityContext={"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}})])),
      A(pod("app-drop-all", "shop", [C("api", IMG, securityContext={"capabilities": {"drop": ["ALL"]}})])),
      A(pod("app-bind", "shop", [C("api", IMG, securityContext={"capabilities": {"add": ["NET_BIND_SERVICE"]}})])),
      D(ctl("DaemonSet", "iptables-tuner", "network", [C("tuner", "registry.example.com/net/tuner:0.3.0",
                                                         securityContext={"capabilities": {"add": ["NET_ADMIN"]}})],
            labels={"network-tier": "edge"})),
      A(ctl("DaemonSet", "cni", "kube-system", [C("cni", "registry.example.com/net/cni:1.15.0",
                                                  securityContext={"capabilities": {"add": ["NET_ADMIN", "SYS_MODULE"]}})],
            labels={"network-tier": "infra"}))],
     pol("conditional-net-admin-infra-label", [], [(
         "!variables.allContainers.exists(c, 'NET_ADMIN' in c.?securityContext.?capabilities.?add.orValue([])) || "
         "variables.labels[?'network-tier'].orValue('') == 'infra'",
         "NET_ADMIN requires network-tier: infra")], pod=True))

case("conditional-memory-emptydir-size-limit", K, "In-memory emptyDirs are bounded",
     "Pods that use an emptyDir volume with medium Memory must set a sizeLimit on that volume, since "
     "tmpfs usage counts against the node's memory.",
     [A(pod("tmpfs-bounded", "shop", [C("api", IMG)], volumes=[{"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}}])),
      D(pod("tmpfs-unbounded", "shop", [C("api", IMG)], volumes=[{"name": "scratch", "emptyDir": {"medium": "Memory"}}])),
      A(pod("disk-emptydir", "shop", [C("api", IMG)], volumes=[{"name": "scratch", "emptyDir": {}}])),
      D(ctl("Deployment", "renderer", "shop", [C("render", IMG2)], volumes=[
          {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
          {"name": "shm", "emptyDir": {"medium": "Memory"}}])),
      A(ctl("Deployment", "renderer-ok", "shop", [C("render", IMG2)], volumes=[
          {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "512Mi"}}]))],
     pol("conditional-memory-emptydir-size-limit", [], [(
         "variables.volumes.all(v, !has(v.emptyDir) || v.emptyDir.?medium.orValue('') != 'Memory' || "
         "has(v.emptyDir.sizeLimit))",
         "Memory emptyDirs need sizeLimit")], pod=True))

case("conditional-lb-internal-namespace", K, "Internal namespaces get internal load balancers",
     "For any Service of type LoadBalancer in a namespace whose name ends with `-internal`, the "
     "annotation `networking.example.com/internal` must be set to \"true\".",
     [A(svc("api", "billing-internal", "LoadBalancer", annotations={"networking.example.com/internal": "true"})),
      D(svc("admin", "billing-internal", "LoadBalancer")),
      D(svc("reports", "hr-internal", "LoadBalancer", annotations={"networking.example.com/internal": "false"})),
      A(svc("web", "storefront", "LoadBalancer")),
      A(svc("cache", "billing-internal"))],
     pol("conditional-lb-internal-namespace", ["Service"], [(
         "!(object.spec.?type.orValue('ClusterIP') == 'LoadBalancer' && object.metadata.namespace.endsWith('-internal')) || "
         "object.metadata.?annotations.orValue({})[?'networking.example.com/internal'].orValue('') == 'true'",
         "internal LoadBalancers need the internal annotation")]))

# ===================================================================== prohibitions
X = "prohibition"

case("no-cpu-limits", X, "No CPU limits",
     "Containers must not set a CPU limit: CFS throttling hurts our latency, so we size with CPU "
     "requests only. Memory limits are still fine.",
     [A(pod("requests-only", "shop", [C("api", IMG, resources=res(cpu_r="500m", mem_r="512Mi", mem_l="512Mi"))])),
      A(pod("no-resources", "shop", [C("api", IMG)])),
      D(pod("cpu-limited", "shop", [C("api", IMG, resources=OKRES)])),
      D(pod("sidecar-cpu-limited", "shop", [C("api", IMG, resources=res(cpu_r="500m")),
                                           C("proxy", "envoyproxy/envoy:v1.30.1", resources=res(cpu_l="200m"))])),
      A(ctl("Deployment", "web", "shop", [C("web", IMG, resources=res(cpu_r="1", mem_r="1Gi", mem_l="1Gi"))])),
      D(ctl("StatefulSet", "cache", "shop", [C("redis", "redis:7.2.5", resources=res(cpu_l="2", mem_l="2Gi"))])),
      D(ctl("CronJob", "rollup", "shop", [C("rollup", IMG2, resources=res(cpu_l="500m"))]))],
     pol("no-cpu-limits", [], [(
         "variables.allContainers.all(c, !('cpu' in c.?resources.?limits.orValue({})))",
         "containers must not set a CPU limit")], pod=True))

case("no-default-service-account", X, "No default service account",
     "Pods must not run under the namespace's `default` ServiceAccount; each workload must set "
     "serviceAccountName to a dedicated account.",
     [A(pod("dedicated-sa", "shop", [C("api", IMG)], serviceAccountName="checkout-api")),
      D(pod("implicit-default", "shop", [C("api", IMG)])),
      D(pod("explicit-default", "shop", [C("api", IMG)], serviceAccountName="default")),
      A(ctl("Deployment", "orders", "shop", [C("api", IMG)], serviceAccountName="orders")),
      D(ctl("Deployment", "legacy", "shop", [C("api", IMG)])),
      A(ctl("CronJob", "billing-run", "billing", [C("run", IMG2)], serviceAccountName="billing-runner")),
      D(ctl("Job", "adhoc", "shop", [C("run", IMG2)], serviceAccountName="default"))],
     pol("no-default-service-account", [], [(
         "variables.spec.?serviceAccountName.orValue('default') != 'default'",
         "pods must not use the default service account")], pod=True))

case("no-host-pid-ipc", X, "No host PID or IPC namespace",
     "Pods must not share the host's process ID or IPC namespaces (hostPID and hostIPC must not be true).",
     [A(pod("isolated", "shop", [C("api", IMG)])),
      A(pod("explicit-false", "shop", [C("api", IMG)], hostPID=False, hostIPC=False)),
      D(pod("host-pid", "ops", [C("sh", "busybox:1.36")], hostPID=True)),
      D(pod("host-ipc", "ops", [C("sh", "busybox:1.36")], hostIPC=True)),
      D(ctl("DaemonSet", "proc-monitor", "monitoring", [C("mon", "registry.example.com/ops/procmon:1.2.0")], hostPID=True)),
      A(ctl("DaemonSet", "log-agent", "logging", [C("agent", "fluent/fluent-bit:3.0.7")]))],
     pol("no-host-pid-ipc", [], [(
         "variables.spec.?hostPID.orValue(false) != true && variables.spec.?hostIPC.orValue(false) != true",
         "hostPID and hostIPC are forbidden")], pod=True))

case("no-privilege-escalation-true", X, "No explicit privilege escalation",
     "No container may set securityContext.allowPrivilegeEscalation to true.",
     [A(pod("escalation-false", "shop", [C("api", IMG, securityContext={"allowPrivilegeEscalation": False})])),
      A(pod("escalation-unset", "shop", [C("api", IMG)])),
      D(pod("escalation-true", "shop", [C("api", IMG, securityContext={"allowPrivilegeEscalation": True})])),
      D(pod("init-escalates", "shop", [C("api", IMG)], initContainers=[
          C("setup", "busybox:1.36", securityContext={"allowPrivilegeEscalation": True})])),
      D(ctl("Deployment", "sudo-tool", "ops", [C("tool", IMG2, securityContext={"allowPrivilegeEscalation": True})])),
      A(ctl("StatefulSet", "etcd-backup", "ops", [C("backup", IMG2, securityContext={"allowPrivilegeEscalation": False})]))],
     pol("no-privilege-escalation-true", [], [(
         "variables.allContainers.all(c, c.?securityContext.?allowPrivilegeEscalation.orValue(false) != true)",
         "allowPrivilegeEscalation: true is forbidden")], pod=True))

case("no-wildcard-verbs-rbac", X, "No wildcard verbs in roles",
     "Roles and ClusterRoles must not grant wildcard (`*`) verbs; list the verbs needed.",
     [A(role("Role", "config-reader", "shop", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}])),
      D(role("Role", "shop-all", "shop", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}])),
      A(role("ClusterRole", "node-viewer", None, [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}])),
      D(role("ClusterRole", "crd-admin", None, [
          {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
          {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "*"]}])),
      A(role("ClusterRole", "all-resources-reader", None, [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"]}]))],
     pol("no-wildcard-verbs-rbac", ["Role", "ClusterRole"], [(
         "object.?rules.orValue([]).all(r, !('*' in r.?verbs.orValue([])))",
         "wildcard verbs are forbidden")]))

case("no-nodeport-services", X, "No NodePort Services",
     "Disallow Services of type NodePort; expose workloads through an Ingress or a LoadBalancer instead.",
     [A(svc("api", "shop")),
      A(svc("web", "edge", "LoadBalancer")),
      D(svc("debug", "shop", "NodePort")),
      D(svc("legacy-admin", "ops", "NodePort", ports=[{"name": "admin", "port": 8443, "nodePort": 31443}])),
      A(svc("db", "shop", "ClusterIP", clusterIP="None"))],
     pol("no-nodeport-services", ["Service"], [(
         "object.spec.?type.orValue('ClusterIP') != 'NodePort'", "NodePort Services are forbidden")]))

case("no-secrets-in-env", X, "No Secrets in environment variables",
     "Containers must not read Secrets into environment variables (neither env[].valueFrom.secretKeyRef "
     "nor envFrom[].secretRef); mount Secrets as files instead.",
     [A(pod("secret-as-file", "shop", [C("api", IMG, volumeMounts=[{"name": "creds", "mountPath": "/etc/creds", "readOnly": True}])],
            volumes=[{"name": "creds", "secret": {"secretName": "db-creds"}}])),
      A(pod("configmap-env", "shop", [C("api", IMG, env=[{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}],
                                        envFrom=[{"configMapRef": {"name": "settings"}}])])),
      D(pod("secret-key-env", "shop", [C("api", IMG, env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}])])),
      D(pod("secret-envfrom", "shop", [C("api", IMG, envFrom=[{"secretRef": {"name": "api-keys"}}])])),
      D(ctl("Deployment", "payments", "billing", [C("api", IMG, env=[
          {"name": "PORT", "value": "8080"},
          {"name": "STRIPE_KEY", "valueFrom": {"secretKeyRef": {"name": "stripe", "key": "key"}}}])])),
      A(ctl("Deployment", "catalog", "shop", [C("api", IMG, env=[{"name": "PORT", "value": "8080"}])]))],
     pol("no-secrets-in-env", [], [(
         "variables.allContainers.all(c, c.?env.orValue([]).all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef)) && "
         "c.?envFrom.orValue([]).all(e, !has(e.secretRef)))",
         "Secrets must not be passed as environment variables")], pod=True))

case("no-hostpath-volumes", X, "No hostPath volumes",
     "Pods must not use hostPath volumes.",
     [A(pod("emptydir-only", "shop", [C("api", IMG)], volumes=[{"name": "tmp", "emptyDir": {}}])),
      A(pod("pvc-user", "shop", [C("api", IMG)], volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])),
      D(pod("host-logs", "logging", [C("tail", "busybox:1.36")], volumes=[LOGS])),
      D(ctl("DaemonSet", "node-exporter", "monitoring", [C("exp", "prom/node-exporter:v1.8.1")],
            volumes=[{"name": "root", "hostPath": {"path": "/"}}])),
      A(ctl("Deployment", "api", "shop", [C("api", IMG)], volumes=[{"name": "cfg", "configMap": {"name": "api-config"}}]))],
     pol("no-hostpath-volumes", [], [(
         "variables.volumes.all(v, !has(v.hostPath))", "hostPath volumes are forbidden")], pod=True))

case("no-wildcard-ingress-hosts", X, "No wildcard Ingress hosts",
     "Ingress rules must not use wildcard hosts such as `*.example.com`; every rule must name one "
     "exact host.",
     [A(ingress("shop", "shop", ["shop.example.com"])),
      A(ingress("api", "shop", ["api.example.com", "api-v2.example.com"])),
      D(ingress("tenants", "saas", ["*.tenants.example.com"])),
      D(ingress("mixed", "saas", ["app.example.com", "*.preview.example.com"]))],
     pol("no-wildcard-ingress-hosts", ["Ingress"], [(
         "object.spec.?rules.orValue([]).all(r, !r.?host.orValue('').startsWith('*'))",
         "wildcard hosts are forbidden")]))

case("no-externalname-services", X, "No ExternalName Services",
     "Forbid Services of type ExternalName (they can be used to hijack traffic via DNS).",
     [A(svc("api", "shop")),
      D(obj("v1", "Service", "upstream-db", "shop", spec={"type": "ExternalName", "externalName": "db.legacy.example.com"})),
      D(obj("v1", "Service", "partner-api", "billing", spec={"type": "ExternalName", "externalName": "api.partner.example.net",
                                                              "ports": [{"port": 443}]})),
      A(svc("lb", "edge", "LoadBalancer"))],
     pol("no-externalname-services", ["Service"], [(
         "object.spec.?type.orValue('ClusterIP') != 'ExternalName'", "ExternalName Services are forbidden")]))

case("no-sys-admin-capability", X, "No SYS_ADMIN capability",
     "Containers must not add the SYS_ADMIN capability.",
     [A(pod("drop-all", "shop", [C("api", IMG, securityContext={"capabilities": {"drop": ["ALL"]}})])),
      A(pod("bind-only", "shop", [C("api", IMG, securityContext={"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}})])),
      D(pod("fuse-mounter", "storage", [C("fuse", "registry.example.com/storage/s3fs:1.94",
                                          securityContext={"capabilities": {"add": ["SYS_ADMIN"]}})])),
      D(ctl("DaemonSet", "csi-node", "storage", [
          C("registrar", "registry.example.com/storage/registrar:2.10.1"),
          C("plugin", "registry.example.com/storage/csi:1.3.0", securityContext={"capabilities": {"add": ["SYS_ADMIN", "SYS_PTRACE"]}})])),
      A(ctl("Deployment", "api", "shop", [C("api", IMG)]))],
     pol("no-sys-admin-capability", [], [(
         "variables.allContainers.all(c, !c.?securityContext.?capabilities.?add.orValue([]).exists(a, a in ['SYS_ADMIN', 'CAP_SYS_ADMIN']))",
         "SYS_ADMIN is forbidden")], pod=True))

SEC_RULE = lambda verbs, res_=("secrets",), groups=("",): {"apiGroups": list(groups), "resources": list(res_), "verbs": list(verbs)}
case("no-list-watch-secrets", X, "Roles cannot list or watch Secrets",
     "Roles and ClusterRoles must not allow listing or watching Secrets (verbs list, watch or `*` on "
     "the core `secrets` resource, including via resource `*`). Reading one named Secret with get is fine.",
     [A(role("Role", "read-one-secret", "shop", [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["api-token"], "verbs": ["get"]}])),
      D(role("Role", "secret-lister", "shop", [SEC_RULE(["get", "list"])])),
      D(role("ClusterRole", "secret-watcher", None, [SEC_RULE(["watch"])])),
      D(role("ClusterRole", "everything-reader", None, [SEC_RULE(["get", "list", "watch"], ["*"])])),
      A(role("ClusterRole", "pod-lister", None, [SEC_RULE(["get", "list", "watch"], ["pods", "services"])])),
      A(role("Role", "secret-writer", "shop", [SEC_RULE(["create", "update"])]))],
     pol("no-list-watch-secrets", ["Role", "ClusterRole"], [(
         "object.?rules.orValue([]).all(r, !(r.?apiGroups.orValue([]).exists(g, g in ['', '*']) && "
         "r.?resources.orValue([]).exists(x, x in ['secrets', '*']) && "
         "r.?verbs.orValue([]).exists(v, v in ['list', 'watch', '*'])))",
         "listing or watching secrets is forbidden")]))

case("no-latest-tag", X, "No latest tag",
     "Container images must not use the `latest` tag, whether it is written explicitly or implied by "
     "leaving the tag off. Images pinned by digest are fine.",
     [A(pod("pinned-tag", "shop", [C("api", IMG)])),
      A(pod("registry-port", "shop", [C("api", "registry.example.com:5000/shop/api:1.2")])),
      A(pod("digest-only", "shop", [C("api", "registry.example.com/shop/api@sha256:" + "e" * 64)])),
      D(pod("explicit-latest", "shop", [C("api", "registry.example.com/shop/api:latest")])),
      D(pod("no-tag", "shop", [C("api", "nginx")])),
      D(pod("registry-port-no-tag", "shop", [C("api", "registry.example.com:5000/shop/api")])),
      D(ctl("Deployment", "web", "shop", [C("web", "nginx:latest")])),
      A(ctl("CronJob", "report", "shop", [C("report", IMG2)]))],
     pol("no-latest-tag", [], [(
         "variables.allContainers.all(c, c.image.contains('@') || "
         "(c.image.split('/')[size(c.image.split('/')) - 1].contains(':') && !c.image.endsWith(':latest')))",
         "the latest tag is forbidden")], pod=True))

# ======================================================================= exceptions
E = "exception"

case("except-kube-system-host-network", E, "No hostNetwork outside kube-system",
     "Pods must not use the host network (hostNetwork: true), except in the namespace kube-system.",
     [A(pod("regular", "shop", [C("api", IMG)])),
      D(pod("host-net", "shop", [C("api", IMG)], hostNetwork=True)),
      A(pod("kube-proxy-debug", "kube-system", [C("sh", "busybox:1.36")], hostNetwork=True)),
      A(ctl("DaemonSet", "cilium", "kube-system", [C("agent", "quay.io/cilium/cilium:v1.15.6")], hostNetwork=True)),
      D(ctl("DaemonSet", "node-exporter", "monitoring", [C("exp", "prom/node-exporter:v1.8.1")], hostNetwork=True)),
      D(ctl("Deployment", "ingress", "ingress-nginx", [C("ctrl", "registry.k8s.io/ingress-nginx/controller:v1.10.1")], hostNetwork=True))],
     pol("except-kube-system-host-network", [], [(
         "object.metadata.namespace == 'kube-system' || variables.spec.?hostNetwork.orValue(false) != true",
         "hostNetwork is only allowed in kube-system")], pod=True))

APPROVED = {"security.example.com/privileged-approved": "true"}
case("unless-label-privileged", E, "Privileged only with approval",
     "Containers must not run privileged (securityContext.privileged: true) unless the pod carries "
     "the label `security.example.com/privileged-approved: \"true\"`.",
     [A(pod("normal", "shop", [C("api", IMG)])),
      D(pod("priv-no-label", "ops", [C("sh", "busybox:1.36", securityContext={"privileged": True})])),
      A(pod("priv-approved", "ops", [C("sh", "busybox:1.36", securityContext={"privileged": True})], labels=APPROVED)),
      D(pod("priv-label-false", "ops", [C("sh", "busybox:1.36", securityContext={"privileged": True})],
            labels={"security.example.com/privileged-approved": "false"})),
      A(ctl("DaemonSet", "csi-node", "storage", [C("plugin", "registry.example.com/storage/csi:1.3.0",
                                                   securityContext={"privileged": True})], labels=APPROVED)),
      D(ctl("DaemonSet", "sysctl-tuner", "ops", [C("tuner", "busybox:1.36", securityContext={"privileged": True})]))],
     pol("unless-label-privileged", [], [(
         "variables.labels[?'security.example.com/privileged-approved'].orValue('') == 'true' || "
         "variables.allContainers.all(c, c.?securityContext.?privileged.orValue(false) != true)",
         "privileged containers need approval")], pod=True))

case("except-sandbox-registry", E, "Images from the company registry",
     "All container images must be pulled from `registry.example.com/`, except for workloads in the "
     "`sandbox` namespace, where any registry is allowed.",
     [A(pod("internal-image", "shop", [C("api", IMG)])),
      D(pod("dockerhub-image", "shop", [C("api", "nginx:1.27")])),
      D(pod("mixed-images", "shop", [C("api", IMG), C("proxy", "docker.io/envoyproxy/envoy:v1.30.1")])),
      A(pod("sandbox-experiment", "sandbox", [C("try", "ghcr.io/someone/tool:0.1")])),
      A(ctl("Deployment", "sandbox-web", "sandbox", [C("web", "nginx:1.27")])),
      D(ctl("Deployment", "web", "shop", [C("web", "quay.io/org/web:2.0")])),
      A(ctl("Job", "migrate", "shop", [C("migrate", IMG2)]))],
     pol("except-sandbox-registry", [], [(
         "object.metadata.namespace == 'sandbox' || "
         "variables.allContainers.all(c, c.image.startsWith('registry.example.com/'))",
         "images must come from registry.example.com")], pod=True))

case("except-system-namespaces-cost-center", E, "Namespaces carry a cost center",
     "Every Namespace other than kube-system, kube-public, kube-node-lease and default must carry the "
     "label `cost-center`.",
     [A(ns_("payments", labels={"cost-center": "cc-100"})),
      D(ns_("analytics", labels={"team": "data"})),
      D(ns_("playground")),
      A(ns_("kube-system", labels={"kubernetes.io/metadata.name": "kube-system"})),
      A(ns_("default"))],
     pol("except-system-namespaces-cost-center", ["Namespace"], [(
         "object.metadata.name in ['kube-system', 'kube-public', 'kube-node-lease', 'default'] || "
         "'cost-center' in object.metadata.?labels.orValue({})",
         "cost-center label required")]))

LIVE = {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 10}
case("except-batch-liveness-probe", E, "Liveness probes except for batch",
     "Every container must define a livenessProbe, except containers of Jobs and CronJobs, which run "
     "to completion.",
     [A(pod("probed", "shop", [C("api", IMG, livenessProbe=LIVE)])),
      D(pod("unprobed", "shop", [C("api", IMG)])),
      A(ctl("Deployment", "web", "shop", [C("web", IMG, livenessProbe=LIVE)])),
      D(ctl("Deployment", "worker", "shop", [C("worker", IMG2)])),
      D(ctl("StatefulSet", "queue", "shop", [C("q", "rabbitmq:3.13", livenessProbe={"exec": {"command": ["rabbitmq-diagnostics", "ping"]}}),
                                              C("exporter", "kbudde/rabbitmq-exporter:1.0.0")])),
      A(ctl("Job", "export", "shop", [C("export", IMG2)])),
      A(ctl("CronJob", "purge", "shop", [C("purge", IMG2)]))],
     pol("except-batch-liveness-probe", [], [(
         "object.kind in ['Job', 'CronJob'] || variables.containers.all(c, has(c.livenessProbe))",
         "containers need a livenessProbe")], pod=True))

case("except-edge-loadbalancers", E, "LoadBalancers only in edge",
     "Services of type LoadBalancer are forbidden, except in the namespace `edge`.",
     [A(svc("gateway", "edge", "LoadBalancer")),
      D(svc("api", "shop", "LoadBalancer")),
      D(svc("grafana", "monitoring", "LoadBalancer")),
      A(svc("api-internal", "shop")),
      A(svc("edge-admin", "edge", "ClusterIP"))],
     pol("except-edge-loadbalancers", ["Service"], [(
         "object.metadata.namespace == 'edge' || object.spec.?type.orValue('ClusterIP') != 'LoadBalancer'",
         "LoadBalancer Services only in edge")]))

case("unless-annotation-pdb-zero", E, "PDBs must allow disruption",
     "PodDisruptionBudgets must not set maxUnavailable to 0 (or \"0%\"), which blocks node drains, "
     "unless they are annotated `drain-blocking-approved: \"true\"`.",
     [A(pdb("api", "shop", max_unavailable=1)),
      A(pdb("web", "shop", min_available="50%")),
      D(pdb("db", "shop", max_unavailable=0)),
      D(pdb("search", "search", max_unavailable="0%")),
      A(pdb("ledger", "billing", max_unavailable=0, annotations={"drain-blocking-approved": "true"}))],
     pol("unless-annotation-pdb-zero", ["PodDisruptionBudget"], [(
         "object.metadata.?annotations.orValue({})[?'drain-blocking-approved'].orValue('') == 'true' || "
         "!has(object.spec.maxUnavailable) || !(string(object.spec.maxUnavailable) in ['0', '0%'])",
         "maxUnavailable 0 blocks drains")]))

case("except-init-readonly-rootfs", E, "Read-only root filesystems",
     "Containers must set securityContext.readOnlyRootFilesystem: true, except init containers, which "
     "may write to their root filesystem.",
     [A(pod("ro", "shop", [C("api", IMG, securityContext={"readOnlyRootFilesystem": True})])),
      A(pod("ro-with-init", "shop", [C("api", IMG, securityContext={"readOnlyRootFilesystem": True})],
            initContainers=[C("fetch", "busybox:1.36")])),
      D(pod("rw", "shop", [C("api", IMG)])),
      D(pod("rw-explicit", "shop", [C("api", IMG, securityContext={"readOnlyRootFilesystem": False})])),
      D(ctl("Deployment", "web", "shop", [C("web", IMG, securityContext={"readOnlyRootFilesystem": True}),
                                          C("log", "fluent/fluent-bit:3.0.7")])),
      A(ctl("StatefulSet", "db", "shop", [C("db", "postgres:16.3", securityContext={"readOnlyRootFilesystem": True})],
            initContainers=[C("chown", "busybox:1.36", securityContext={"readOnlyRootFilesystem": False})]))],
     pol("except-init-readonly-rootfs", [], [(
         "variables.containers.all(c, c.?securityContext.?readOnlyRootFilesystem.orValue(false) == true)",
         "readOnlyRootFilesystem required")], pod=True))

case("except-system-clusterroles-escalate", E, "No escalate or bind outside system roles",
     "ClusterRoles must not grant the `escalate` or `bind` verbs (or `*`) on roles or clusterroles, "
     "except ClusterRoles whose name starts with `system:`.",
     [A(role("ClusterRole", "viewer", None, [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])),
      D(role("ClusterRole", "role-manager", None, [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["get", "bind"]}])),
      D(role("ClusterRole", "role-escalator", None, [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles"], "verbs": ["escalate"]}])),
      A(role("ClusterRole", "system:controller:clusterrole-aggregation-controller", None,
             [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate", "get", "list", "patch", "update", "watch"]}])),
      A(role("ClusterRole", "rbac-reader", None, [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles"], "verbs": ["get", "list", "watch"]}]))],
     pol("except-system-clusterroles-escalate", ["ClusterRole"], [(
         "object.metadata.name.startsWith('system:') || object.?rules.orValue([]).all(r, "
         "!(r.?resources.orValue([]).exists(x, x in ['roles', 'clusterroles', '*']) && "
         "r.?verbs.orValue([]).exists(v, v in ['escalate', 'bind', '*'])))",
         "escalate/bind are forbidden")]))

# ================================================================ value constraints
W = "value"

case("value-latest-pull-always", W, "latest images are always pulled",
     "imagePullPolicy must be Always when the image uses the latest tag or no tag. Images with any "
     "other tag or a digest may use any pull policy.",
     [A(pod("latest-always", "shop", [C("api", "registry.example.com/shop/api:latest", imagePullPolicy="Always")])),
      D(pod("latest-ifnotpresent", "shop", [C("api", "registry.example.com/shop/api:latest", imagePullPolicy="IfNotPresent")])),
      D(pod("untagged-never", "shop", [C("api", "nginx", imagePullPolicy="Never")])),
      A(pod("untagged-always", "shop", [C("api", "nginx", imagePullPolicy="Always")])),
      A(pod("tagged-ifnotpresent", "shop", [C("api", IMG, imagePullPolicy="IfNotPresent")])),
      A(pod("port-tagged", "shop", [C("api", "registry.example.com:5000/shop/api:1.0", imagePullPolicy="IfNotPresent")])),
      D(ctl("Deployment", "web", "shop", [C("web", IMG, imagePullPolicy="IfNotPresent"),
                                          C("sidecar", "registry.example.com:5000/ops/sidecar", imagePullPolicy="IfNotPresent")])),
      A(ctl("Deployment", "web-ok", "shop", [C("web", "nginx:latest", imagePullPolicy="Always")]))],
     pol("value-latest-pull-always", [], [(
         "variables.allContainers.all(c, c.image.contains('@') || "
         "(c.image.split('/')[size(c.image.split('/')) - 1].contains(':') && !c.image.endsWith(':latest')) || "
         "c.?imagePullPolicy.orValue('Always') == 'Always')",
         "latest or untagged images need imagePullPolicy Always")], pod=True))

case("value-max-replicas", W, "At most 10 replicas",
     "Deployments may run at most 10 replicas; larger fleets need an HPA and a capacity review.",
     [A(ctl("Deployment", "api", "shop", [C("api", IMG)], replicas=10)),
      A(ctl("Deployment", "web", "shop", [C("web", IMG)], replicas=3)),
      A(ctl("Deployment", "default-replicas", "shop", [C("web", IMG)])),
      D(ctl("Deployment", "crawler", "search", [C("crawl", IMG2)], replicas=11)),
      D(ctl("Deployment", "load-test", "perf", [C("k6", "grafana/k6:0.51.0")], replicas=50))],
     pol("value-max-replicas", ["Deployment"], [(
         "object.spec.?replicas.orValue(1) <= 10", "at most 10 replicas")]))

case("value-namespace-environment", W, "Namespace environment is known",
     "Every Namespace must carry an `environment` label whose value is one of `dev`, `staging` or `prod`.",
     [A(ns_("shop-prod", labels={"environment": "prod"})),
      A(ns_("shop-dev", labels={"environment": "dev", "team": "shop"})),
      A(ns_("shop-staging", labels={"environment": "staging"})),
      D(ns_("shop-qa", labels={"environment": "qa"})),
      D(ns_("shop-production", labels={"environment": "production"})),
      D(ns_("unlabelled"))],
     pol("value-namespace-environment", ["Namespace"], [(
         "object.metadata.?labels.orValue({}).?environment.orValue('') in ['dev', 'staging', 'prod']",
         "environment must be dev, staging or prod")]))

case("value-hpa-bounds", W, "HPA bounds",
     "HorizontalPodAutoscalers must set minReplicas to at least 2 and maxReplicas to at most 20.",
     [A(hpa("api", "shop", minr=2, maxr=20)),
      A(hpa("web", "shop", minr=3, maxr=12)),
      D(hpa("worker", "shop", minr=1, maxr=10)),
      D(hpa("crawler", "search", minr=2, maxr=40)),
      D(hpa("unset-min", "shop", maxr=5))],
     pol("value-hpa-bounds", ["HorizontalPodAutoscaler"], [(
         "object.spec.?minReplicas.orValue(1) >= 2 && object.spec.maxReplicas <= 20",
         "minReplicas >= 2 and maxReplicas <= 20")]))

case("value-cronjob-history-limits", W, "CronJob history is short",
     "CronJobs may keep at most 3 successful and at most 1 failed finished Job "
     "(successfulJobsHistoryLimit ≤ 3, failedJobsHistoryLimit ≤ 1; the Kubernetes defaults of 3 and 1 "
     "are acceptable).",
     [A(ctl("CronJob", "backup", "shop", [C("b", IMG2)], top={"successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1})),
      A(ctl("CronJob", "defaults", "shop", [C("b", IMG2)])),
      D(ctl("CronJob", "noisy", "shop", [C("b", IMG2)], top={"successfulJobsHistoryLimit": 10})),
      D(ctl("CronJob", "keeps-failures", "shop", [C("b", IMG2)], top={"successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 5}))],
     pol("value-cronjob-history-limits", ["CronJob"], [(
         "object.spec.?successfulJobsHistoryLimit.orValue(3) <= 3 && object.spec.?failedJobsHistoryLimit.orValue(1) <= 1",
         "history limits too high")]))

case("value-memory-limit-max", W, "Memory limits at most 4Gi",
     "No container may set a memory limit above 4Gi; bigger workloads belong on the dedicated "
     "large-memory cluster.",
     [A(pod("small", "shop", [C("api", IMG, resources=res(mem_l="512Mi"))])),
      A(pod("exactly-4gi", "shop", [C("api", IMG, resources=res(mem_l="4Gi"))])),
      A(pod("no-limit", "shop", [C("api", IMG)])),
      D(pod("eight-gi", "shop", [C("api", IMG, resources=res(mem_l="8Gi"))])),
      D(pod("decimal-5g", "shop", [C("api", IMG, resources=res(mem_l="5G"))])),
      D(ctl("StatefulSet", "elasticsearch", "search", [C("es", "elasticsearch:8.14.1", resources=res(mem_l="16Gi", cpu_l="4"))])),
      A(ctl("Deployment", "web", "shop", [C("web", IMG, resources=res(mem_l="4096Mi"))]))],
     pol("value-memory-limit-max", [], [(
         "variables.allContainers.all(c, !('memory' in c.?resources.?limits.orValue({})) || "
         "quantity(string(c.resources.limits.memory)).compareTo(quantity('4Gi')) <= 0)",
         "memory limit must be at most 4Gi")], pod=True))

case("value-termination-grace-max", W, "Short termination grace period",
     "terminationGracePeriodSeconds must be at most 120 seconds (the default of 30 is fine).",
     [A(pod("default-grace", "shop", [C("api", IMG)])),
      A(pod("grace-120", "shop", [C("api", IMG)], terminationGracePeriodSeconds=120)),
      D(pod("grace-600", "shop", [C("api", IMG)], terminationGracePeriodSeconds=600)),
      D(ctl("StatefulSet", "kafka", "streaming", [C("broker", "bitnami/kafka:3.7")], terminationGracePeriodSeconds=300)),
      A(ctl("Deployment", "web", "shop", [C("web", IMG)], terminationGracePeriodSeconds=45))],
     pol("value-termination-grace-max", [], [(
         "variables.spec.?terminationGracePeriodSeconds.orValue(30) <= 120",
         "terminationGracePeriodSeconds must be at most 120")], pod=True))

case("value-ingress-class", W, "Known ingress classes",
     "Ingresses must set ingressClassName to one of `nginx-internal` or `nginx-public`.",
     [A(ingress("admin", "ops", ["admin.internal.example.com"], cls="nginx-internal")),
      A(ingress("shop", "shop", ["shop.example.com"], cls="nginx-public")),
      D(ingress("legacy", "shop", ["legacy.example.com"], cls="nginx")),
      D(ingress("external", "shop", ["old.example.com"], cls="nginx-external")),
      D(ingress("traefik", "shop", ["t.example.com"], cls="traefik"))],
     pol("value-ingress-class", ["Ingress"], [(
         "object.spec.?ingressClassName.orValue('') in ['nginx-internal', 'nginx-public']",
         "ingressClassName must be nginx-internal or nginx-public")]))

case("value-sa-automount-false", W, "ServiceAccounts do not automount tokens",
     "ServiceAccounts must set automountServiceAccountToken to false; pods that need an API token "
     "opt in themselves.",
     [A(obj("v1", "ServiceAccount", "checkout", "shop", automountServiceAccountToken=False)),
      A(obj("v1", "ServiceAccount", "orders", "shop", {"app": "orders"}, automountServiceAccountToken=False)),
      D(obj("v1", "ServiceAccount", "legacy", "shop")),
      D(obj("v1", "ServiceAccount", "controller", "ops", automountServiceAccountToken=True))],
     pol("value-sa-automount-false", ["ServiceAccount"], [(
         "object.?automountServiceAccountToken.orValue(true) == false",
         "automountServiceAccountToken must be false")]))

case("value-cronjob-concurrency", W, "CronJobs do not overlap",
     "CronJobs must set concurrencyPolicy to `Forbid` or `Replace`; the default `Allow` lets runs pile up.",
     [A(ctl("CronJob", "sync", "shop", [C("s", IMG2)], top={"concurrencyPolicy": "Forbid"})),
      A(ctl("CronJob", "refresh", "shop", [C("s", IMG2)], top={"concurrencyPolicy": "Replace"})),
      D(ctl("CronJob", "allow", "shop", [C("s", IMG2)], top={"concurrencyPolicy": "Allow"})),
      D(ctl("CronJob", "unset", "shop", [C("s", IMG2)]))],
     pol("value-cronjob-concurrency", ["CronJob"], [(
         "object.spec.?concurrencyPolicy.orValue('Allow') in ['Forbid', 'Replace']",
         "concurrencyPolicy must be Forbid or Replace")]))

# ======================================================= a few more conditional/exception
case("conditional-frontend-cpu-request", K, "Frontend pods request CPU",
     "For any pod labelled `tier: frontend`, every container must set a CPU request. Pods of other "
     "tiers are not affected.",
     [A(pod("storefront", "shop", [C("web", IMG, resources=res(cpu_r="200m"))], labels={"tier": "frontend"})),
      D(pod("storefront-unsized", "shop", [C("web", IMG, resources=res(mem_r="256Mi"))], labels={"tier": "frontend"})),
      A(pod("backend-unsized", "shop", [C("api", IMG)], labels={"tier": "backend"})),
      A(pod("untiered", "shop", [C("api", IMG)])),
      D(ctl("Deployment", "landing", "marketing", [C("web", IMG, resources=res(cpu_r="100m")), C("cache", "varnish:7.5")],
            labels={"tier": "frontend"})),
      A(ctl("Deployment", "landing-ok", "marketing", [C("web", IMG, resources=res(cpu_r="100m", cpu_l="500m"))],
            labels={"tier": "frontend"}))],
     pol("conditional-frontend-cpu-request", [], [(
         "variables.labels.?tier.orValue('') != 'frontend' || "
         "variables.containers.all(c, 'cpu' in c.?resources.?requests.orValue({}))",
         "frontend containers need a CPU request")], pod=True))

VER = {"app.kubernetes.io/version": "1.8.2"}
case("unless-dev-namespace-version-label", E, "Version label outside dev",
     "Pods must carry the label `app.kubernetes.io/version`, unless they run in a namespace whose name "
     "starts with `dev-`.",
     [A(pod("versioned", "shop", [C("api", IMG)], labels=VER)),
      D(pod("unversioned", "shop", [C("api", IMG)])),
      A(pod("dev-scratch", "dev-alice", [C("api", IMG)])),
      A(ctl("Deployment", "dev-web", "dev-bob", [C("web", IMG)])),
      D(ctl("Deployment", "web", "shop", [C("web", IMG)], obj_labels={"app": "web", "app.kubernetes.io/version": "2.0"})),
      A(ctl("DaemonSet", "agent", "monitoring", [C("agent", "grafana/alloy:v1.2.0")], labels={"app.kubernetes.io/version": "v1.2.0"})),
      D(pod("developer-tools", "developer-portal", [C("api", IMG)]))],
     pol("unless-dev-namespace-version-label", [], [(
         "object.metadata.namespace.startsWith('dev-') || variables.labels[?'app.kubernetes.io/version'].orValue('') != ''",
         "label app.kubernetes.io/version is required")], pod=True))

# ========================================================= not enforceable at admission
N = "not-enforceable"


def decline(cid, kinds):
    """Reference for a case a correct generator declines: nothing is denied."""
    return pol(cid, kinds, [("true", "not enforceable at admission; nothing to deny")])


case("advice-prefer-managed-databases", N, "Prefer managed databases",
     "Teams should prefer the cloud provider's managed database services over running their own "
     "databases in the cluster; self-hosted databases are harder to back up and patch.",
     [A(ctl("StatefulSet", "postgres", "shop", [C("db", "postgres:16.3", resources=res(cpu_l="2", mem_l="4Gi"))], replicas=1)),
      A(ctl("StatefulSet", "mongodb", "catalog", [C("db", "mongo:7.0")], replicas=3)),
      A(ctl("Deployment", "api", "shop", [C("api", IMG)], replicas=2))],
     decline("advice-prefer-managed-databases", ["StatefulSet", "Deployment"]))

case("cross-object-matching-pdb", N, "Every Deployment has a PDB",
     "Every Deployment with more than one replica must have a matching PodDisruptionBudget that "
     "selects its pods.",
     [A(ctl("Deployment", "checkout", "shop", [C("api", IMG)], replicas=3)),
      A(ctl("Deployment", "cart", "shop", [C("api", IMG)], replicas=2)),
      A(dict(pdb("checkout-pdb", "shop", min_available=2), spec={"minAvailable": 2, "selector": {"matchLabels": {"app": "checkout"}}})),
      A(pdb("orphan", "shop", max_unavailable=1))],
     decline("cross-object-matching-pdb", ["Deployment", "PodDisruptionBudget"]))

case("runtime-cpu-utilisation", N, "Keep CPU utilisation moderate",
     "Workloads should keep their average CPU utilisation below 70% of their CPU requests over a day; "
     "teams whose services run hotter must raise their requests.",
     [A(pod("busy-api", "shop", [C("api", IMG, resources=res(cpu_r="100m"))])),
      A(pod("idle-api", "shop", [C("api", IMG, resources=res(cpu_r="2"))])),
      A(ctl("Deployment", "web", "shop", [C("web", IMG, resources=OKRES)]))],
     decline("runtime-cpu-utilisation", ["Pod", "Deployment"]))

case("cross-object-configmap-exists", N, "Referenced ConfigMaps exist",
     "Pods may only reference ConfigMaps that already exist in their namespace; a pod that mounts a "
     "missing ConfigMap gets stuck in ContainerCreating.",
     [A(pod("with-config", "shop", [C("api", IMG, envFrom=[{"configMapRef": {"name": "api-settings"}}])])),
      A(pod("with-missing-config", "shop", [C("api", IMG, envFrom=[{"configMapRef": {"name": "does-not-exist"}}])])),
      A(obj("v1", "ConfigMap", "api-settings", "shop", data={"MODE": "prod"}))],
     decline("cross-object-configmap-exists", ["Pod", "ConfigMap"]))

case("process-networkpolicy-review", N, "Security reviews NetworkPolicy changes",
     "All changes to NetworkPolicies must be reviewed and approved by the security team in a pull "
     "request before they are merged to the GitOps repository.",
     [A(obj("networking.k8s.io/v1", "NetworkPolicy", "default-deny", "shop",
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
      A(obj("networking.k8s.io/v1", "NetworkPolicy", "allow-all-egress", "shop",
            spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}))],
     decline("process-networkpolicy-review", ["NetworkPolicy"]))

case("runtime-image-vulnerability-scan", N, "No critical CVEs in running images",
     "Images running in production must have had no critical CVEs in their most recent scan by the "
     "security scanner; the scanner re-checks running images every night.",
     [A(pod("api", "shop", [C("api", IMG)])),
      A(pod("old-nginx", "shop", [C("web", "nginx:1.14.0")])),
      A(ctl("Deployment", "web", "shop", [C("web", "nginx:1.27")]))],
     decline("runtime-image-vulnerability-scan", ["Pod", "Deployment"]))

case("runtime-service-has-endpoints", N, "Services select running pods",
     "Every Service must select at least one running, ready Pod; Services without endpoints should "
     "be cleaned up.",
     [A(svc("api", "shop")),
      A(svc("ghost", "shop")),
      A(pod("api-6b7c9d-x2k4p", "shop", [C("api", IMG)], labels={"app": "api"}))],
     decline("runtime-service-has-endpoints", ["Service", "Pod"]))


# ============================================================================ write
def main():
    out = {"format": 1,
           "source": ("Written fresh for patternpolicy from knowledge of Kubernetes practice, "
                      "independently of the analyser and of cases-dev.json, not copied from any "
                      "policy library. Held out: never to be tuned on. Every verdict was checked "
                      "with the real Kyverno CLI against a hand-written reference policy "
                      "(reference/, verify.sh)."),
           "cases": []}
    refdir = os.path.join(HERE, "reference")
    os.makedirs(refdir, exist_ok=True)
    for c in CASES:
        p = c.pop("_policy")
        assert p is not None, c["id"]
        fname = c["id"].replace("/", "-") + ".yaml"
        with open(os.path.join(refdir, fname), "w") as f:
            f.write("# Reference policy for case %s (%s). Written by hand in build_cases.py; see ../README.md.\n" % (c["id"], c["category"]))
            yaml.safe_dump(p, f, sort_keys=False, width=120)
        out["cases"].append(c)
    ids = [c["id"] for c in out["cases"]]
    assert len(ids) == len(set(ids))
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    cats = {}
    for c in out["cases"]:
        cats[c["category"]] = cats.get(c["category"], 0) + 1
    print(len(out["cases"]), "cases", cats)


if __name__ == "__main__":
    main()
