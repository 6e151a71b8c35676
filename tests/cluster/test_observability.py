"""What a user sees of a flow: Events for every step, metrics that move, CLI exit codes on a real cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from patternpolicy import metrics
from patternpolicy.adapters.kube import apply_cluster_object
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.services.generate import generate
from tests.support.controlplane import ControlPlane
from tests.support.kube import eventually, get_or_none

pytestmark = pytest.mark.cluster

G, V = "patternpolicy.io", "v1alpha1"
ROOT = Path(__file__).resolve().parents[2]


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    port = eventually(metrics.server_port, what="the operator's /metrics server")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def reasons(name: str) -> set[str]:
    events = client.CoreV1Api().list_event_for_all_namespaces(field_selector=f"involvedObject.name={name}")
    return {e.reason for e in events.items}


def cli(cluster: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patternpolicy.cli", *args, "--kubeconfig", str(cluster.kubeconfig)],
                          capture_output=True, text=True, timeout=120, check=False)


def phase(api: client.CustomObjectsApi, name: str) -> Any:
    return ((get_or_none(api, G, V, "policyproposals", name) or {}).get("status") or {}).get("phase")


def test_a_flow_posts_events_and_moves_the_metrics(api: client.CustomObjectsApi, operator: KopfRunner,
                                                   cluster: ControlPlane) -> None:
    before = scrape()
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": "observed"},
        "spec": {"description": "Deployments must define CPU and memory limits",
                 "suggestedResources": ["Deployment"]}})
    eventually(lambda: phase(api, "observed-g1") == "Pending", timeout=60, what="proposal validated")

    diff = cli(cluster, "diff", "observed-g1", "--format", "json")
    assert diff.returncode == 1, diff.stderr  # nothing applied yet: the proposal would add its policy
    assert json.loads(diff.stdout)["differs"] is True

    approve = cli(cluster, "approve", "observed-g1")
    assert approve.returncode == 0, approve.stderr
    eventually(lambda: phase(api, "observed-g1") == "Applied", timeout=60, what="proposal applied")

    eventually(lambda: {"PatternAnalyzed", "ProposalCreated"} <= reasons("observed"), what="pattern events")
    eventually(lambda: {"ProposalValidated", "ProposalApproved", "PolicyApplied"} <= reasons("observed-g1"),
               what="proposal events")

    def moved() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        after = scrape()
        applied = value(after, "patternpolicy_proposals", phase="Applied") >= 1 and \
            value(after, "patternpolicy_patterns", state="Applied") >= 1
        return after if applied else None

    after = eventually(moved, what="the state gauges to follow the flow")
    calls = ("patternpolicy_analyser_calls_total", {"analyser": "offline", "outcome": "enforceable"})
    assert value(after, calls[0], **calls[1]) >= value(before, calls[0], **calls[1]) + 1
    durations = ("patternpolicy_generation_seconds_count", {"analyser": "offline"})
    assert value(after, durations[0], **durations[1]) >= value(before, durations[0], **durations[1]) + 1
    assert ("patternpolicy_approval_guard_present", ()) in after

    # A new generation, approved, supersedes the first: that step is an Event on the old proposal too.
    api.patch_cluster_custom_object(G, V, "patterns", "observed", {"spec": {
        "description": "Deployments must define memory limits"}})
    eventually(lambda: phase(api, "observed-g2") == "Pending", timeout=60, what="second proposal validated")
    assert cli(cluster, "approve", "observed-g2").returncode == 0
    eventually(lambda: phase(api, "observed-g1") == "Superseded", timeout=60, what="first proposal superseded")
    eventually(lambda: "ProposalSuperseded" in reasons("observed-g1"), what="the superseded proposal's event")
    assert value(scrape(), "patternpolicy_proposals", phase="Superseded") >= 1
    api.delete_cluster_custom_object(G, V, "patterns", "observed")
    eventually(lambda: scrape() if value(scrape(), "patternpolicy_patterns", state="Applied") ==
               value(after, "patternpolicy_patterns", state="Applied") - 1 else None,
               what="a deleted pattern leaves the gauge")


def test_doctor_strict_fails_on_warnings(cluster: ControlPlane) -> None:
    # Kyverno's CRDs are installed, its admission controller is not: policies would be stored, not enforced.
    relaxed = cli(cluster, "doctor")
    assert relaxed.returncode == 0 and "warning:" in relaxed.stdout, relaxed.stdout + relaxed.stderr
    strict = cli(cluster, "doctor", "--strict", "--format", "json")
    assert strict.returncode == 1
    assert json.loads(strict.stdout)["warnings"]


def test_the_kustomization_applies_exactly_the_policies(cluster: ControlPlane, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = generate([ROOT / "examples" / "patterns"], out, OfflineAnalyzer(), KindCatalog.builtin(), verify=False)
    assert report.ok
    resources = yaml.safe_load((out / "kustomization.yaml").read_text())["resources"]
    assert resources and all(r.startswith("policies/") for r in resources)
    applied = []
    for resource in resources:
        for doc in yaml.safe_load_all((out / resource).read_text()):
            apply_cluster_object(doc, dry_run=True)  # server-side dry-run: the apiserver accepts each policy
            applied.append(doc["metadata"]["name"])
    assert sorted(applied) == sorted(p for r in report.patterns for p in r.policies)


def test_run_serves_liveness_and_logs_json(cluster: ControlPlane, tmp_path: Path) -> None:
    with socket_port() as port:
        pass
    log = tmp_path / "operator.log"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}  # the flags alone must be enough
    env["PATTERNPOLICY_INDEX_PATH"] = str(tmp_path / "index")
    with log.open("wb") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "patternpolicy.cli", "run", "--standalone", "--log-format",
                                 "json", "--liveness", f"http://127.0.0.1:{port}/healthz",
                                 "--kubeconfig", str(cluster.kubeconfig), "--context", "test"],
                                stdout=handle, stderr=subprocess.STDOUT, env=env)
    try:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        eventually(healthy, timeout=60, interval=1, what=f"liveness on :{port}; log: {log.read_text()[-2000:]}")
        # The operator's own client and kopf's watches both reached the cluster of --kubeconfig/--context.
        eventually(lambda: "engine auto:" in log.read_text() and "'crd_changed' succeeded" in log.read_text(),
                   timeout=60, interval=1, what=f"the operator on the cluster; log: {log.read_text()[-2000:]}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, log.read_text()[-2000:]
    assert all({"timestamp", "severity", "message"} <= set(line) for line in lines), lines[:3]
    assert any("patternpolicy operator starting" in line["message"] for line in lines)


def socket_port() -> Any:
    import contextlib
    import socket

    @contextlib.contextmanager
    def free() -> Any:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            yield s.getsockname()[1]

    return free()


def test_a_user_the_cluster_does_not_know_gets_exit_4(cluster: ControlPlane, tmp_path: Path) -> None:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    config["users"] = [{"name": "admin", "user": {"token": "not-a-valid-token"}}]
    stranger = tmp_path / "kubeconfig"
    stranger.write_text(yaml.safe_dump(config))
    for verb in (["doctor"], ["approve", "x-g1"], ["diff", "x-g1"]):
        result = subprocess.run([sys.executable, "-m", "patternpolicy.cli", *verb, "--kubeconfig", str(stranger)],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 4, (verb, result.stderr)
        assert result.stderr.startswith("error: the cluster refused") and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
