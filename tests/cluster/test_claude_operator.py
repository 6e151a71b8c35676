"""The operator with the Claude analyser (model served at the wire by a local Messages API server)."""

from __future__ import annotations

from typing import Any

import pytest
from kopf.testing import KopfRunner
from kubernetes import client

from tests.support.fake_anthropic import KEY, error, fake_anthropic, look_up, tool_use
from tests.support.kube import eventually, get_or_none
from tests.unit.test_claude_analyzer import GOOD_ANSWER

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
ARGS = ["run", "-A", "--standalone", "-m", "patternpolicy.handlers"]


def use_claude(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("PATTERNPOLICY_ANALYSER", "claude")
    monkeypatch.setenv("PATTERNPOLICY_ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("PATTERNPOLICY_ANTHROPIC_BASE_URL", url)


def create_pattern(api: client.CustomObjectsApi, name: str) -> None:
    api.create_cluster_custom_object(G, V, "patterns", {
        "apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
        "spec": {"description": "Deployments must not use the host network"}})


def conditions(api: client.CustomObjectsApi, name: str) -> dict[str, dict[str, Any]]:
    status = api.get_cluster_custom_object(G, V, "patterns", name).get("status") or {}
    return {c["type"]: c for c in status.get("conditions") or []}


def test_model_called_once_per_generation_even_across_restarts(
        api: client.CustomObjectsApi, cluster: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    with fake_anthropic(tool_use(GOOD_ANSWER)) as server:
        use_claude(monkeypatch, server.url)
        with KopfRunner(ARGS) as first:
            create_pattern(api, "host-network")
            proposal = eventually(lambda: (p := get_or_none(api, G, V, "policyproposals", "host-network-g1"))
                                  and p.get("status", {}).get("phase") and p, what="proposal from the model",
                                  timeout=120)
        assert first.exception is None, first.output
        assert proposal["status"]["phase"] == "Pending", proposal["status"]
        assert [p["metadata"]["name"] for p in proposal["spec"]["policies"]] == ["host-network-rule-1"]
        analysis = api.get_cluster_custom_object(G, V, "patterns", "host-network")["status"]["analysis"]
        assert analysis["analyzer"] == "claude"
        assert len(server.requests) == 1 and server.refusals == []
        assert server.requests[0]["json"]["tool_choice"] == {"type": "auto"}  # claude-sonnet-5-5 refuses forcing

        caplog.clear()
        with KopfRunner(ARGS) as second:
            eventually(lambda: any("Resuming is processed" in r.getMessage() and "host-network" in str(r.__dict__)
                                   for r in caplog.records) or None, what="resume after restart")
        assert second.exception is None, second.output
        assert len(server.requests) == 1, "a restart must not call the model again for the same generation"
        api.delete_cluster_custom_object(G, V, "patterns", "host-network")


def test_the_model_looks_kinds_up_in_the_operator_from_the_clusters_index_and_schemas(
        api: client.CustomObjectsApi, cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = look_up(names=["Deployment", "DeploymentConfig"], describe="controllers that keep a set of identical "
                     "replicas running", under="spec.template.spec")
    with fake_anthropic(lookup, tool_use(GOOD_ANSWER)) as server:
        use_claude(monkeypatch, server.url)
        with KopfRunner(ARGS) as runner:
            create_pattern(api, "host-network-lookup")
            proposal = eventually(lambda: get_or_none(api, G, V, "policyproposals", "host-network-lookup-g1"),
                                  what="proposal after a kind lookup", timeout=120)
        assert runner.exception is None, runner.output
    assert len(server.requests) == 2 and server.refusals == []
    (result,) = [b for b in server.requests[1]["json"]["messages"][-1]["content"] if b["type"] == "tool_result"]
    text = result["content"]
    assert "- Deployment (apiVersion apps/v1, namespaced; named in the lookup)" in text
    assert "hostNetwork (boolean)" in text  # the field paths come from the cluster's own OpenAPI
    assert "DeploymentConfig: not served by this cluster" in text
    # The operator's capability index answered the description.
    assert ("- ReplicationController (apiVersion v1, namespaced; similar in meaning to 'controllers that keep a "
            "set of identical replicas running'") in text
    assert [p["metadata"]["name"] for p in proposal["spec"]["policies"]] == ["host-network-lookup-rule-1"]
    analysis = api.get_cluster_custom_object(G, V, "patterns", "host-network-lookup")["status"]["analysis"]
    assert analysis["attempts"] == 2
    assert any(n.startswith("kinds looked up by the model: Deployment, DeploymentConfig") for n in analysis["notes"])
    api.delete_cluster_custom_object(G, V, "patterns", "host-network-lookup")


def test_unreachable_model_is_reported_and_retried(
        api: client.CustomObjectsApi, cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_anthropic(*[error(503, "overloaded_error", "overloaded")] * 10) as server:
        use_claude(monkeypatch, server.url)
        monkeypatch.setenv("PATTERNPOLICY_MODEL_RETRIES", "0")
        with KopfRunner(ARGS) as runner:
            create_pattern(api, "model-down")
            analyzed = eventually(lambda: conditions(api, "model-down").get("Analyzed"), what="Analyzed condition")
        assert runner.exception is None, runner.output
    assert (analyzed["status"], analyzed["reason"]) == ("Unknown", "ModelUnavailable")
    assert "HTTP 503" in analyzed["message"] and "retrying" in analyzed["message"]
    assert get_or_none(api, G, V, "policyproposals", "model-down-g1") is None
    api.delete_cluster_custom_object(G, V, "patterns", "model-down")


def test_a_retired_model_is_reported_with_the_setting_to_change(
        api: client.CustomObjectsApi, cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_anthropic(tool_use(GOOD_ANSWER)) as server:
        use_claude(monkeypatch, server.url)
        monkeypatch.setenv("PATTERNPOLICY_MODEL", "claude-3-opus-20240229")
        with KopfRunner(ARGS) as runner:
            create_pattern(api, "model-retired")
            analyzed = eventually(lambda: conditions(api, "model-retired").get("Analyzed"), what="Analyzed condition")
        assert runner.exception is None, runner.output
    assert analyzed["status"] == "Unknown"
    assert "model 'claude-3-opus-20240229' is not served" in analyzed["message"]
    assert "set PATTERNPOLICY_MODEL" in analyzed["message"]
    assert len(server.requests) == 1
    api.delete_cluster_custom_object(G, V, "patterns", "model-retired")
