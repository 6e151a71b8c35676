"""The Helm chart, by the real helm and the real API server: lint, render, dry-run, install, RBAC."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from patternpolicy.adapters.claude_models import DEFAULT_MODEL
from tests.support.kube import eventually
from tests.support.manifests import allowed, apply, documents, impersonating, run

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "patternpolicy"
G, V = "patternpolicy.io", "v1alpha1"

CLAUDE_BEHIND_A_PROXY = {
    "analyser": "claude",
    "anthropic": {"existingSecret": "anthropic", "secretKey": "key", "model": DEFAULT_MODEL},
    "proxy": {"httpsProxy": "http://proxy.corp:3128", "noProxy": "qdrant.corp"},
    "caBundle": {"configMap": "corp-ca", "key": "bundle.pem"},
    "qdrant": {"url": "http://qdrant.corp:6333", "existingSecret": "qdrant"},
    "image": {"digest": "sha256:" + "a" * 64},
    "imagePullSecrets": [{"name": "regcred"}],
    "serviceAccount": {"annotations": {"iam.example/role": "patternpolicy"}},
    "podAnnotations": {"team": "platform"}, "podLabels": {"tier": "control"},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}}},
    "extraEnv": [{"name": "PATTERNPOLICY_MODEL_TIMEOUT", "value": "90"}],
    "extraEnvFrom": [{"configMapRef": {"name": "patternpolicy-extra"}}],
    "logging": {"format": "json", "level": "debug"},
    "engine": "ValidatingPolicy",
}
LEAN = {"metrics": {"enabled": False, "serviceMonitor": {"enabled": False}}, "impact": {"enabled": False},
        "serviceAccount": {"create": False, "name": "preexisting"}, "fullnameOverride": "lean-operator"}


@pytest.fixture(scope="module")
def helm(binaries: Path, cluster: Any) -> Path:
    return binaries / "helm"


def values_file(tmp_path: Path, values: dict[str, Any]) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def template(helm: Path, release: str, namespace: str, values: Path | None = None) -> list[dict[str, Any]]:
    args: list[str | Path] = ["template", release, CHART, "--namespace", namespace]
    if values:
        args += ["--values", values]
    return documents(run(helm, *args))


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def env_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(docs, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_lint_strict(helm: Path, tmp_path: Path) -> None:
    run(helm, "lint", "--strict", CHART)
    run(helm, "lint", "--strict", CHART, "--values", values_file(tmp_path, CLAUDE_BEHIND_A_PROXY))


def test_defaults_render_release_scoped_labelled_objects_the_api_server_accepts(helm: Path) -> None:
    docs = template(helm, "dry-default", "dry-default")
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(["ServiceAccount", "ClusterRole", "ClusterRole", "ClusterRoleBinding", "ClusterRoleBinding",
                            "Deployment", "Service", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"])
    for doc in docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "dry-default", doc["kind"]
        assert labels["helm.sh/chart"] == "patternpolicy-0.1.0"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert doc["metadata"]["name"].startswith("dry-default-patternpolicy"), doc["metadata"]["name"]
    (deployment,) = by_kind(docs, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/patternpolicy/pattern-policy-operator:0.1.0"
    assert "--liveness=http://0.0.0.0:8081/healthz" in container["args"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    env = env_of(docs)
    assert env["PATTERNPOLICY_ANALYSER"] == "offline" and env["PATTERNPOLICY_METRICS_PORT"] == "8080"
    assert "PATTERNPOLICY_ANTHROPIC_API_KEY" not in env
    apply(client.ApiClient(), [d for d in docs], dry_run=True)


def test_claude_behind_a_proxy_with_a_private_ca(helm: Path, tmp_path: Path) -> None:
    docs = template(helm, "dry-claude", "dry-claude", values_file(tmp_path, CLAUDE_BEHIND_A_PROXY))
    env = env_of(docs)
    assert env["PATTERNPOLICY_ANALYSER"] == "claude"
    assert env["PATTERNPOLICY_ANTHROPIC_API_KEY"] == {"secretKeyRef": {"name": "anthropic", "key": "key"}}
    assert env["PATTERNPOLICY_QDRANT_API_KEY"] == {"secretKeyRef": {"name": "qdrant", "key": "api-key"}}
    assert env["PATTERNPOLICY_MODEL"] == DEFAULT_MODEL
    assert env["PATTERNPOLICY_QDRANT_URL"] == "http://qdrant.corp:6333"
    assert env["PATTERNPOLICY_LOG_FORMAT"] == "json" and env["PATTERNPOLICY_ENGINE"] == "ValidatingPolicy"
    assert env["HTTPS_PROXY"] == "http://proxy.corp:3128"
    # The API server is never reached through the proxy.
    assert env["NO_PROXY"].split(",")[:2] == ["qdrant.corp", "$(KUBERNETES_SERVICE_HOST)"]
    assert env["SSL_CERT_FILE"] == "/etc/patternpolicy/ca/bundle.pem"
    assert env["PATTERNPOLICY_MODEL_TIMEOUT"] == "90"
    (deployment,) = by_kind(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"].endswith("@sha256:" + "a" * 64)
    assert {"name": "ca-bundle", "configMap": {"name": "corp-ca", "items": [{"key": "bundle.pem",
                                                                             "path": "bundle.pem"}]}} in pod["volumes"]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"} and pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert deployment["spec"]["template"]["metadata"]["labels"]["tier"] == "control"
    apply(client.ApiClient(), docs, dry_run=True)


def test_lean_install_without_metrics_impact_or_own_account(helm: Path, tmp_path: Path) -> None:
    docs = template(helm, "dry-lean", "dry-lean", values_file(tmp_path, LEAN))
    assert sorted(d["kind"] for d in docs) == sorted(["ClusterRole", "ClusterRoleBinding", "Deployment",
                                                      "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"])
    (binding,) = by_kind(docs, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "preexisting", "namespace": "dry-lean"}]
    (guard,) = by_kind(docs, "ValidatingAdmissionPolicyBinding")
    assert guard["spec"]["paramRef"]["name"] == "preexisting" and guard["metadata"]["name"].startswith("lean-operator")
    assert env_of(docs)["PATTERNPOLICY_METRICS_PORT"] == "off"  # metrics disabled: no endpoint at all
    apply(client.ApiClient(), docs, dry_run=True)


def test_service_monitor_scrapes_the_metrics_service(helm: Path, tmp_path: Path) -> None:
    values = {"metrics": {"port": 9090, "serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}}}
    docs = template(helm, "mon", "mon", values_file(tmp_path, values))
    (monitor,) = by_kind(docs, "ServiceMonitor")
    (service,) = by_kind(docs, "Service")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics" and service["spec"]["ports"][0]["port"] == 9090


@pytest.mark.parametrize("args, complaint", [
    (["--set", "replicaCount=2"], "replicaCount"),
    (["--set", "metrics.serviceMonitor.enable=true"], "enable"),
    (["--set-string", "impact.readableResources[0].apiGroup=", "--set",
      "impact.readableResources[0].resources={pods,secrets}"], "/impact/readableResources/0/resources/1"),
    (["--set", "impact.readableResources[0].apiGroup=apps", "--set", "impact.readableResources[0].resources={*}"],
     "'*' does not match"),
    (["--set", "analyser=claude"], "anthropic.existingSecret"),
], ids=["unknown", "typo", "secrets", "wildcard", "claude-without-key"])
def test_bad_values_are_refused(helm: Path, args: list[str], complaint: str) -> None:
    done = subprocess.run([str(helm), "template", "bad", str(CHART), *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0, done.stdout
    assert complaint in done.stderr, done.stderr


def test_chart_and_deploy_grant_the_same_rules(helm: Path) -> None:
    docs = template(helm, "patternpolicy", "patternpolicy-system")
    chart_roles = {d["metadata"]["name"]: d["rules"] for d in by_kind(docs, "ClusterRole")}
    deploy_docs = documents((ROOT / "deploy" / "operator.yaml").read_text())
    deploy_docs += documents((ROOT / "deploy" / "impact-reader.yaml").read_text())
    deploy_roles = {d["metadata"]["name"]: d["rules"] for d in by_kind(deploy_docs, "ClusterRole")}
    assert chart_roles == deploy_roles


def proposal(name: str, approved: bool) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "PolicyProposal", "metadata": {"name": name},
            "spec": {"patternRef": {"name": "p", "uid": "u", "generation": 1}, "approved": approved, "policies": []}}


def test_kube_version_is_enforced(helm: Path) -> None:
    run(helm, "template", "kv", CHART, "--kube-version", "1.30.0")
    done = subprocess.run([str(helm), "template", "kv", str(CHART), "--kube-version", "1.29.9"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "kubeVersion" in done.stderr, done.stderr


def installable_copy(tmp_path: Path) -> Path:
    """The chart without its kubeVersion: the test kube-apiserver is built from its Go module without
    version stamping and reports v0.0.0-master, which no constraint admits (test_kube_version_is_enforced
    checks the constraint itself)."""
    chart = tmp_path / "patternpolicy"
    shutil.copytree(CHART, chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    del meta["kubeVersion"]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    return chart


def test_two_releases_install_and_the_operator_account_has_least_privilege(helm: Path, tmp_path: Path,
                                                                           api: client.CustomObjectsApi) -> None:
    chart = installable_copy(tmp_path)
    try:
        for release in ("pp-a", "pp-b"):
            run(helm, "install", release, chart, "--namespace", release, "--create-namespace")
        operator = "system:serviceaccount:pp-a:pp-a-patternpolicy"
        assert allowed(operator, "list", "pods")
        assert allowed(operator, "get", "deployments", "apps", namespace="default")
        assert allowed(operator, "create", "policyproposals", G)
        assert allowed(operator, "patch", "validatingpolicies", "policies.kyverno.io")
        assert not allowed(operator, "list", "secrets")
        assert not allowed(operator, "get", "secrets", namespace="pp-a")
        assert not allowed(operator, "list", "*", "*")
        assert not allowed(operator, "list", "roles", "rbac.authorization.k8s.io")
        assert not allowed(operator, "delete", "pods", namespace="default")

        as_operator = impersonating(operator)
        client.CoreV1Api(as_operator).list_pod_for_all_namespaces()
        with pytest.raises(ApiException) as refused:
            client.CoreV1Api(as_operator).list_secret_for_all_namespaces()
        assert refused.value.status == 403

        # The release's own approval guard: the operator may propose, never approve.
        proposals = client.CustomObjectsApi(as_operator)
        proposals.create_cluster_custom_object(G, V, "policyproposals", proposal("chart-proposed", False))

        def denial() -> str | None:
            try:
                proposals.patch_cluster_custom_object(G, V, "policyproposals", "chart-proposed",
                                                      {"spec": {"approved": True}})
            except ApiException as exc:
                message = str(json.loads(exc.body)["message"])
                return message if "must never approve" in message else None
            # Approved before the guard took effect (a new admission policy takes a moment): undo it as the
            # admin, so that the next attempt is an approval again, not a no-op the guard never sees.
            api.patch_cluster_custom_object(G, V, "policyproposals", "chart-proposed", {"spec": {"approved": False}})
            return None

        message = eventually(denial, timeout=90, what="pp-a's guard to deny its operator an approval")
        assert "pp-a-patternpolicy-operator-cannot-approve" in message
        api.delete_cluster_custom_object(G, V, "policyproposals", "chart-proposed")

        installed = documents(run(helm, "get", "manifest", "pp-b", "--namespace", "pp-b"))
        assert {d["metadata"]["name"] for d in by_kind(installed, "ClusterRole")} == \
            {"pp-b-patternpolicy", "pp-b-patternpolicy-impact-reader"}
    finally:
        with contextlib.suppress(ApiException):
            api.delete_cluster_custom_object(G, V, "policyproposals", "chart-proposed")
        # The Deployments never run here (no kubelet), yet other modules count the cluster's Deployments
        # (impact) and the releases' guards stay in force: leave nothing behind, pass or fail.
        for release in ("pp-a", "pp-b"):
            subprocess.run([str(helm), "uninstall", release, "--namespace", release, "--wait=false"],
                           capture_output=True, check=False, timeout=120)
