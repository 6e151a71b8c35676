"""The metrics' bookkeeping: state gauges follow objects, the guard gauge is settable, /metrics serves them."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import REGISTRY

from patternpolicy import metrics


def gauge(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_state_gauges_count_objects_by_their_current_state() -> None:
    metrics.forget_states()
    assert metrics.observe_state("proposal", "a-g1", "Pending") is None
    metrics.observe_state("proposal", "b-g1", "Pending")
    assert metrics.observe_state("proposal", "a-g1", "Applied") == "Pending"
    assert (gauge("patternpolicy_proposals", phase="Pending"), gauge("patternpolicy_proposals", phase="Applied")) \
        == (1, 1)
    assert metrics.observe_state("proposal", "a-g1", None) == "Applied"  # deleted
    assert gauge("patternpolicy_proposals", phase="Applied") == 0
    metrics.forget_states()
    assert gauge("patternpolicy_proposals", phase="Pending") == 0


def test_guard_gauge_and_the_http_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(metrics.PORT_ENV, "0")
    port = metrics.start_server()
    try:
        assert port is not None and metrics.start_server() == port  # once per process
        metrics.set_guard_present(True)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert "patternpolicy_approval_guard_present 1.0" in response.read().decode()
        metrics.set_guard_present(False)
        assert gauge("patternpolicy_approval_guard_present") == 0
    finally:
        metrics.stop_server()
    assert metrics.server_port() is None
    monkeypatch.setenv(metrics.PORT_ENV, "off")
    assert metrics.start_server() is None
