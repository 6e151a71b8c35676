"""What the cluster benchmarks share: a real control plane with patternpolicy's and Kyverno's CRDs, and the
pattern texts they create (each one the offline analyser turns into a proven policy)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator")]

import yaml  # noqa: E402
from kubernetes import client, config  # noqa: E402
from tests.support.binaries import bin_dir  # noqa: E402
from tests.support.controlplane import ControlPlane, control_plane  # noqa: E402
from tests.support.kube import install_crds  # noqa: E402

G, V = "patternpolicy.io", "v1alpha1"
DESCRIPTIONS = [
    "Containers must not run in privileged mode",
    "Deployments must define CPU and memory limits",
    "Images must not use the latest tag",
    "Services must not use the `NodePort` type",
    "Ingress hosts must not contain a wildcard",
]


def pattern(name: str, index: int) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
            "spec": {"description": DESCRIPTIONS[index % len(DESCRIPTIONS)]}}


@contextmanager
def cluster() -> Iterator[tuple[ControlPlane, Path, Path]]:
    """A control plane with the CRDs installed and the kubeconfig loaded; yields it, the binaries' folder
    and a scratch folder removed afterwards."""
    bins = bin_dir()
    with tempfile.TemporaryDirectory() as tmp, control_plane(bins, Path(tmp)) as cp:
        config.load_kube_config(str(cp.kubeconfig))
        crds = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml"))]
        crds += [yaml.safe_load(p.read_text())
                 for p in sorted((bins / "crds" / "policies.kyverno.io").glob("*validatingpolicies.yaml"))]
        install_crds(client.ApiextensionsV1Api(), crds)
        yield cp, bins, Path(tmp)
