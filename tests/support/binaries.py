"""Where the project-built control-plane, Kyverno, helm and kustomize binaries live (never in the repo)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("etcd", "kube-apiserver", "kube-controller-manager", "kyverno", "kyverno-admission", "helm", "kustomize")


class MissingBinaries(RuntimeError):
    pass


def bin_dir() -> Path:
    configured = os.environ.get("PATTERNPOLICY_BIN_DIR")
    if configured:
        path = Path(configured)
    else:
        out = subprocess.run(["bash", str(ROOT / "scripts" / "build-binaries.sh"), "--print"],
                             capture_output=True, text=True, check=True)
        path = Path(out.stdout.strip())
    missing = [name for name in REQUIRED if not (path / name).exists()]
    if missing:
        # A tier that cannot run must fail loudly, never skip.
        raise MissingBinaries(f"missing {', '.join(missing)} in {path}: run `make binaries` "
                              "(scripts/build-binaries.sh) first")
    return path
