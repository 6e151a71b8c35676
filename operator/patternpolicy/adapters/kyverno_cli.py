"""Running the real Kyverno CLI (`kyverno test`) on a suite directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("install the Kyverno CLI (https://kyverno.io/docs/kyverno-cli/install/) or set "
                "PATTERNPOLICY_KYVERNO to its path")


class KyvernoNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class SuiteRun:
    passed: bool
    output: str
    failures: list[str]


def find_kyverno() -> str | None:
    configured = os.environ.get("PATTERNPOLICY_KYVERNO")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("kyverno") or shutil.which("kubectl-kyverno")


_ROW = re.compile(r"^\s*│?\s*\d+\s*│\s*(?P<policy>[^│]+?)\s*│\s*(?P<rule>[^│]*?)\s*│\s*(?P<resource>[^│]+?)\s*│"
                  r"\s*(?P<result>Pass|Fail)\s*│\s*(?P<reason>[^│]*?)\s*│?\s*$")


def run_suite(directory: Path, timeout: float = 120.0) -> SuiteRun:
    binary = find_kyverno()
    if binary is None:
        raise KyvernoNotFound(f"Kyverno CLI not found: {INSTALL_HINT}")
    proc = subprocess.run(
        [binary, "test", str(directory), "--detailed-results"],
        capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "KYVERNO_EXPERIMENTAL": "false"},
    )
    output = (proc.stdout + proc.stderr).strip()
    failures = [
        f"{m['policy']} {m['resource']}: {m['reason'] or 'fail'}"
        for line in output.splitlines() if (m := _ROW.match(line)) and m["result"] == "Fail"
    ]
    passed = proc.returncode == 0 and not failures and "Test Summary" in output
    if not passed and not failures:
        failures = [output[-2000:] or f"kyverno exited with {proc.returncode}"]
    return SuiteRun(passed=passed, output=output, failures=failures)
