"""The real Kyverno admission controller, out of cluster, serving webhooks on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from kubernetes import client

WEBHOOK = "kyverno-resource-validating-webhook-cfg"


@contextlib.contextmanager
def kyverno_admission(binary: Path, kubeconfig: Path, api: client.ApiClient, log: Path) -> Iterator[int]:
    client.CoreV1Api(api).create_namespace({"metadata": {"name": "kyverno"}})
    # Out of cluster, Kyverno writes webhook URLs as https://<serverIP>/path (no port): it must serve on 443.
    port = 443
    env = {**os.environ, "KYVERNO_NAMESPACE": "kyverno", "KYVERNO_SERVICEACCOUNT_NAME": "kyverno-admission-controller",
           "KYVERNO_DEPLOYMENT": "kyverno-admission-controller", "KYVERNO_POD_NAME": "kyverno-e2e",
           "INIT_CONFIG": "kyverno", "METRICS_CONFIG": "kyverno-metrics"}
    with log.open("wb") as handle:
        proc = subprocess.Popen([
            str(binary), f"--kubeconfig={kubeconfig}", "--serverIP=127.0.0.1", f"--webhookServerPort={port}",
            f"--servicePort={port}", "--disableMetrics", "--admissionReports=false", "--profilePort=0",
            "--metricsPort=0", "--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca",
            "--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair",
        ], stdout=handle, stderr=subprocess.STDOUT, env=env)
    try:
        hooks = client.AdmissionregistrationV1Api(api)
        deadline = time.monotonic() + 120
        while not any(h.metadata.name == WEBHOOK for h in hooks.list_validating_webhook_configuration().items):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Kyverno admission controller did not register its webhooks:\n"
                                   f"{log.read_text()[-3000:]}")
            time.sleep(1)
        _wait_until_serving(api, proc, log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_serving(api: client.ApiClient, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Registered webhooks are not yet a serving webhook (its TLS pair is made asynchronously):
    wait until a dry-run through Kyverno's policy webhook succeeds."""
    probe = {"apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": {"name": "probe"},
             "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                               "operations": ["CREATE"], "resources": ["configmaps"]}]},
                      "validations": [{"expression": "true"}]}}
    objects = client.CustomObjectsApi(api)
    deadline = time.monotonic() + 120
    while True:
        try:
            objects.create_cluster_custom_object("policies.kyverno.io", "v1", "validatingpolicies", probe,
                                                 dry_run="All")
            return
        except client.exceptions.ApiException:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Kyverno's webhooks never served:\n{log.read_text()[-3000:]}") from None
            time.sleep(1)
