"""The operator as its own process (`patternpolicy run --standalone`), to be killed and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

STARTED = "engine auto:"  # logged by the start-up handler once the cluster has been read


class OperatorProcess:
    """One operator at a time against one cluster; every run appends to the same log."""

    def __init__(self, kubeconfig: Path, kyverno: Path, workdir: Path, env: Mapping[str, str] | None = None) -> None:
        self.log = workdir / "operator.log"
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PATTERNPOLICY_KYVERNO": str(kyverno),
                    "PATTERNPOLICY_INDEX_PATH": str(workdir / "index"), **(env or {})}
        if "PATTERNPOLICY_ANALYSER" not in (env or {}):
            self.env.pop("PATTERNPOLICY_ANTHROPIC_API_KEY", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 120) -> None:
        """Starts the operator and waits until its start-up handler has run."""
        assert self.proc is None or self.proc.poll() is not None, "the operator is already running"
        self.starts += 1
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as handle:
            handle.write(f"\n=== start #{self.starts} ===\n".encode())
            handle.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "patternpolicy.cli", "run", "--standalone"],
                                         stdout=handle, stderr=subprocess.STDOUT, env=self.env,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the operator exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if STARTED in self.output(offset):
                return
            time.sleep(0.2)
        raise AssertionError(f"the operator did not start within {timeout}s:\n{self.output(offset)[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no cleanup handler, no last patch; what a node failure or an OOM kill does."""
        assert self.proc is not None and self.proc.poll() is None, f"the operator is not running:\n{self.output()}"
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def freeze(self) -> None:
        """SIGSTOP: the process sees nothing more until it is killed (the instant of a crash, held still)."""
        assert self.proc is not None and self.proc.poll() is None, f"the operator is not running:\n{self.output()}"
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self, offset: int = 0) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")
