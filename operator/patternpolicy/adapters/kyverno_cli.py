"""Running the real Kyverno CLI (`kyverno test`) on a suite directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
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


# Reasons in `kyverno test` rows for which the engine gave no verdict: "Excluded" (no rule of the policy
# matched the resource; the CLI counts it as a pass) and "Not found" (no such resource in the suite).
NOT_JUDGED_REASONS = frozenset({"Excluded", "Not found"})


@dataclass(frozen=True)
class SuiteRow:
    """One row of `kyverno test --detailed-results`."""

    policy: str
    rule: str
    resource: str  # apiVersion/Kind/namespace/name, as the CLI prints it
    result: str  # Pass | Fail: whether the engine's verdict is the expected one
    reason: str  # Ok, Excluded, Not found, "Want fail, got pass", ...
    message: str

    @property
    def name(self) -> str:
        return self.resource.rpartition("/")[2]

    @property
    def judged(self) -> bool:
        return self.reason not in NOT_JUDGED_REASONS

    def describe(self) -> str:
        return f"{self.policy} {self.resource}: {self.reason}" + (f" ({self.message})" if self.message else "")


@dataclass(frozen=True)
class SuiteRun:
    passed: bool  # the CLI's own verdict: it counts an excluded resource as a pass
    output: str
    failures: list[str]
    rows: list[SuiteRow] = field(default_factory=list)


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


def result_rows(output: str) -> list[SuiteRow]:
    """The rows of the results table (ID | POLICY | RULE | RESOURCE | RESULT | REASON | MESSAGE)."""
    rows = []
    for line in _ANSI.sub("", output).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) >= 6 and cells[0].isdigit():
            rows.append(SuiteRow(policy=cells[1], rule=cells[2], resource=cells[3], result=cells[4],
                                 reason=cells[5], message=cells[6] if len(cells) > 6 else ""))
    return rows


def read_run(output: str, returncode: int) -> SuiteRun:
    """What `kyverno test --detailed-results` said: its rows, failures, and its own verdict."""
    rows = result_rows(output)
    failures = [row.describe() for row in rows if row.result == "Fail"]
    passed = returncode == 0 and not failures and "Test Summary" in output
    if not passed and not failures:
        failures = [output[-2000:] or f"kyverno exited with {returncode}"]
    return SuiteRun(passed=passed, output=output, failures=failures, rows=rows)


def run_suite(directory: Path, timeout: float = 120.0) -> SuiteRun:
    proc = _run([_binary(), "test", str(directory), "--detailed-results"], timeout,
                env={**os.environ, "KYVERNO_EXPERIMENTAL": "false"})
    return read_run((proc.stdout + proc.stderr).strip(), proc.returncode)


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
