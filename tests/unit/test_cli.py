"""The command line on bad input: clear messages and exit codes, nothing half-written."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patternpolicy.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_unreachable_cluster_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}",
                                               "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    result = cli("doctor", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot read the cluster")
    assert "Traceback" not in result.stderr


def test_missing_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    result = cli("approve", "x-g1", "--kubeconfig", str(tmp_path / "nope"))
    assert result.returncode == 1 and result.stderr.startswith("error:")
    assert "Traceback" not in result.stderr


def test_generate_reports_invalid_pattern_files_and_exits_non_zero(tmp_path: Path) -> None:
    patterns = tmp_path / "patterns"
    patterns.mkdir()
    (patterns / "good.yaml").write_text((ROOT / "examples" / "patterns" / "no-privileged.yaml").read_text())
    (patterns / "bad.yaml").write_text("apiVersion: patternpolicy.io/v1alpha1\nkind: Pattern\n"
                                       "metadata: {name: short}\nspec: {description: too short}\n")
    (patterns / "broken.yaml").write_text("kind: Pattern\nspec: [unclosed\n")
    out = tmp_path / "out"
    result = cli("generate", str(patterns), "-o", str(out), "--no-verify")
    assert result.returncode == 1
    report = (out / "report.md").read_text()
    assert "invalid Pattern: spec.description" in report and "cannot read" in report
    assert (out / "policies" / "no-privileged" / "no-privileged-no-privileged.yaml").exists()


def test_generate_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "mine.yaml").write_text("keep: me\n")
    result = cli("generate", str(ROOT / "examples" / "patterns"), "-o", str(tmp_path), "--no-verify")
    assert result.returncode == 2 and "not written by patternpolicy" in result.stderr
    assert (tmp_path / "policies" / "mine.yaml").read_text() == "keep: me\n"
