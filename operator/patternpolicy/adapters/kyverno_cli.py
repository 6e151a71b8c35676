"""Running the real Kyverno CLI (`kyverno test`) on a suite directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("install the Kyverno CLI (https://kyverno.io/docs/kyverno-cli/install/) or set "
                "PATTERNPOLICY_KYVERNO to its path")


class KyvernoNotFound(RuntimeError):
    pass


def _slots() -> int:
    try:
        return max(1, int(os.environ.get("PATTERNPOLICY_ENGINE_CONCURRENCY", "2")))
    except ValueError:
        return 2


# Each `kyverno` process takes ~150-200 MB: with 100 patterns at once, unbounded runs went past the
# chart's memory limit. Calls beyond the bound wait for a slot.
_ENGINE_SLOTS = threading.BoundedSemaphore(_slots())


def _run(args: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    with _ENGINE_SLOTS:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, env=env)


@dataclass(frozen=True)
class SuiteRun:
    passed: bool
    output: str
    failures: list[str]


def find_kyverno() -> str | None:
    configured = os.environ.get("PATTERNPOLICY_KYVERNO")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    on_path = shutil.which("kyverno") or shutil.which("kubectl-kyverno")
    if on_path:
        return on_path
    # The CLI that `make test` builds for this project, when present.
    built = sorted(Path.home().glob(".cache/patternpolicy/bin/*/kyverno"), key=lambda p: p.stat().st_mtime)
    return str(built[-1]) if built else None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failed_rows(output: str) -> list[str]:
    """Rows of `kyverno test --detailed-results` whose RESULT is Fail, as 'policy resource: reason'."""
    failures = []
    for line in _ANSI.sub("", output).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        # ID | POLICY | RULE | RESOURCE | RESULT | REASON | MESSAGE
        if len(cells) >= 6 and cells[0].isdigit() and cells[4] == "Fail":
            message = cells[6] if len(cells) > 6 else ""
            failures.append(f"{cells[1]} {cells[3]}: {cells[5]}" + (f" ({message})" if message else ""))
    return failures


def run_suite(directory: Path, timeout: float = 120.0) -> SuiteRun:
    proc = _run([_binary(), "test", str(directory), "--detailed-results"], timeout,
                env={**os.environ, "KYVERNO_EXPERIMENTAL": "false"})
    output = (proc.stdout + proc.stderr).strip()
    failures = failed_rows(output)
    passed = proc.returncode == 0 and not failures and "Test Summary" in output
    if not passed and not failures:
        failures = [output[-2000:] or f"kyverno exited with {proc.returncode}"]
    return SuiteRun(passed=passed, output=output, failures=failures)


def _binary() -> str:
    binary = find_kyverno()
    if binary is None:
        raise KyvernoNotFound(f"Kyverno CLI not found: {INSTALL_HINT}")
    return binary


Failure = tuple[str, str]  # (policy, rule): the rule is the policy's name again for CEL policies without rules


def failures(policy_files: list[Path], resource_files: list[Path], values_file: Path | None = None,
             timeout: float = 120.0) -> dict[str, list[Failure]]:
    """What the real engine says of each resource it matched: `Kind/namespace/name` -> the (policy, rule)
    pairs it fails, empty when it passes every one. `values_file` gives the CLI namespaces' labels, which
    ClusterPolicy namespaceSelectors need (without them such a rule matches nothing)."""
    args = [_binary(), "apply", *map(str, policy_files)]
    for resource in resource_files:
        args += ["--resource", str(resource)]
    if values_file is not None:
        args += ["--values-file", str(values_file)]
    proc = _run([*args, "--policy-report", "--output-format", "json", "--remove-color"], timeout)
    start = proc.stdout.find("{")
    if start < 0 and proc.returncode == 0 and not proc.stdout.strip():
        return {}  # no policy matched any resource: nothing was denied
    if start < 0:
        raise RuntimeError(f"kyverno apply produced no report: {(proc.stdout + proc.stderr)[-2000:]}")
    report = json.loads(proc.stdout[start:])
    found: dict[str, list[Failure]] = {}
    for result in report.get("results") or []:
        policy = str(result.get("policy", ""))
        for res in result.get("resources") or []:
            key = f"{res.get('kind')}/{res.get('namespace', '')}/{res.get('name')}"
            failed = found.setdefault(key, [])
            if result.get("result") in ("fail", "error"):
                failed.append((policy, str(result.get("rule") or policy)))
    return found


def evaluate(policy_files: list[Path], resource_files: list[Path], timeout: float = 120.0) -> dict[str, str]:
    """Verdicts of the real engine: `Kind/namespace/name` -> "deny" if any policy fails it, else "allow"."""
    return {key: "deny" if failed else "allow"
            for key, failed in failures(policy_files, resource_files, timeout=timeout).items()}
