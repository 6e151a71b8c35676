"""Cluster tier: one real control plane per session, the operator per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kopf.testing import KopfRunner
from kubernetes import client, config

from tests.support.controlplane import ControlPlane, control_plane
from tests.support.kube import install_crds

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
        yield cp


@pytest.fixture(scope="module")
def operator(cluster: ControlPlane) -> Iterator[KopfRunner]:
    """The operator in-process (kopf's KopfRunner), one per test module, against the session's cluster."""
    with KopfRunner(["run", "-A", "--standalone", "-m", "patternpolicy.handlers"]) as runner:
        yield runner
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0, runner.output
