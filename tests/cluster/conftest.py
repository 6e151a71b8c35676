"""Cluster tier: one real control plane per session, the operator per module."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client, config

from tests.support.controlplane import ControlPlane, control_plane
from tests.support.kube import install_crds, install_guard

ROOT = Path(__file__).resolve().parents[2]
# Read by the handlers at import: check applied policies every 2 s instead of every minute.
os.environ.setdefault("PATTERNPOLICY_DRIFT_INTERVAL", "2")


@pytest.fixture(scope="session")
def cluster(binaries: Path, tmp_path_factory: pytest.TempPathFactory,
            kyverno_cli: Path) -> Iterator[ControlPlane]:
    with control_plane(binaries, tmp_path_factory.mktemp("controlplane")) as cp:
        os.environ["KUBECONFIG"] = str(cp.kubeconfig)
        config.load_kube_config(str(cp.kubeconfig))
        ext = client.ApiextensionsV1Api()
        crds = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml"))]
        kyverno = [yaml.safe_load(p.read_text())
                   for p in sorted((binaries / "crds" / "policies.kyverno.io").glob("*validatingpolicies.yaml"))]
        kyverno.append(yaml.safe_load((binaries / "crds" / "kyverno" / "kyverno.io_clusterpolicies.yaml").read_text()))
        install_crds(ext, crds + kyverno)
        install_guard(client.ApiClient(), ROOT)
        yield cp


@pytest.fixture(scope="session")
def api(cluster: ControlPlane) -> client.CustomObjectsApi:
    return client.CustomObjectsApi()


@pytest.fixture(scope="session")
def bare_cluster(binaries: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A second control plane with no Kyverno at all: the ValidatingAdmissionPolicy path."""
    with control_plane(binaries, tmp_path_factory.mktemp("bare"), controller_manager=False) as cp:
        cfg = client.Configuration()
        config.load_kube_config(str(cp.kubeconfig), client_configuration=cfg)
        crds = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml"))]
        install_crds(client.ApiextensionsV1Api(client.ApiClient(cfg)), crds)
        install_guard(client.ApiClient(cfg), ROOT)
        yield cp


@pytest.fixture(scope="module")
def operator(cluster: ControlPlane) -> Iterator[KopfRunner]:
    """The operator in-process (kopf's KopfRunner), one per test module, against the session's cluster."""
    with KopfRunner(["run", "-A", "--standalone", "-m", "patternpolicy.handlers"]) as runner:
        yield runner
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0, runner.output


@pytest.fixture
def bare_api(bare_cluster: ControlPlane) -> Iterator[client.ApiClient]:
    cfg = client.Configuration()
    config.load_kube_config(str(bare_cluster.kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api_client:
        yield api_client


@pytest.fixture
def bare_operator(bare_cluster: ControlPlane, kyverno_cli: Path, tmp_path: Path) -> Iterator[Path]:
    """The real CLI in its own process: `patternpolicy run` against the Kyverno-less cluster."""
    log = tmp_path / "operator.log"
    env = {**os.environ, "KUBECONFIG": str(bare_cluster.kubeconfig), "PATTERNPOLICY_KYVERNO": str(kyverno_cli),
           "PATTERNPOLICY_INDEX_PATH": str(tmp_path / "index")}
    env.pop("PATTERNPOLICY_ANTHROPIC_API_KEY", None)
    with log.open("wb") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "patternpolicy.cli", "run", "--standalone"],
                                stdout=handle, stderr=subprocess.STDOUT, env=env)
    yield log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
