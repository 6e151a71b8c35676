"""`generate` with the Claude analyser through the real command line, against the local Messages API double.

Claude runs only when chosen; when it is chosen but cannot answer, each pattern says why in one line,
the command exits non-zero without a traceback, and the files of an earlier run stay.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from patternpolicy.services.analyzers import AnalyzerNotConfigured, bench_analyzers
from tests.support.fake_anthropic import KEY, error, fake_anthropic, tool_use
from tests.unit.test_claude_analyzer import GOOD_ANSWER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "patterns"


def patterns(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "patterns"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f"{name}.yaml").write_text((EXAMPLES / f"{name}.yaml").read_text())
    return folder


def host_network_pattern(tmp_path: Path) -> Path:
    folder = tmp_path / "hn"
    folder.mkdir()
    (folder / "p.yaml").write_text("apiVersion: patternpolicy.io/v1alpha1\nkind: Pattern\n"
                                   "metadata: {name: no-host-network}\n"
                                   "spec: {description: Deployments must not use the host network}\n")
    return folder


def generate(source: Path, out: Path, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PATTERNPOLICY_ANTHROPIC", "ANTHROPIC_"))
            and k not in ("PATTERNPOLICY_ANALYSER", "PATTERNPOLICY_MODEL")}
    return subprocess.run([sys.executable, "-m", "patternpolicy.cli", "generate", str(source), "-o", str(out),
                           "--no-verify", *flags], capture_output=True, text=True, timeout=300, check=False,
                          env={**base, "PATTERNPOLICY_MODEL_RETRIES": "0", "PATTERNPOLICY_MODEL_TIMEOUT": "5", **env})


def report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    return data


def test_an_api_key_alone_never_selects_claude(tmp_path: Path) -> None:
    with fake_anthropic(tool_use(GOOD_ANSWER)) as server:
        result = generate(patterns(tmp_path, "no-privileged"), tmp_path / "out", ANTHROPIC_API_KEY=KEY,
                          PATTERNPOLICY_ANTHROPIC_API_KEY=KEY, PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p["analyzer"] for p in report(tmp_path / "out")["patterns"]} == {"offline"}
    assert server.requests == []


def test_choosing_claude_without_a_key_is_a_clear_error(tmp_path: Path) -> None:
    for flags, env in ((("--analyser", "claude"), {}), ((), {"PATTERNPOLICY_ANALYSER": "claude"})):
        result = generate(patterns(tmp_path, "no-privileged"), tmp_path / "out", *flags, **env)
        assert result.returncode == 2
        assert result.stderr.startswith("error: the Claude analyser was chosen but no API key is set")
        assert "PATTERNPOLICY_ANTHROPIC_API_KEY" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_claude_chosen_by_flag_or_setting_writes_its_policies(tmp_path: Path) -> None:
    with fake_anthropic(tool_use(GOOD_ANSWER), tool_use(GOOD_ANSWER)) as server:
        source = host_network_pattern(tmp_path)
        by_flag = generate(source, tmp_path / "a", "--analyser", "claude", ANTHROPIC_API_KEY=KEY,
                           PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url)
        by_setting = generate(source, tmp_path / "b", PATTERNPOLICY_ANALYSER="claude",
                              PATTERNPOLICY_ANTHROPIC_API_KEY=KEY, PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url)
    for result, out in ((by_flag, tmp_path / "a"), (by_setting, tmp_path / "b")):
        assert result.returncode == 0, result.stdout + result.stderr
        (entry,) = report(out)["patterns"]
        assert (entry["analyzer"], entry["outcome"]) == ("claude", "policies"), entry
    assert len(server.requests) == 2 and server.refusals == []


def test_unreachable_model_fails_each_pattern_and_keeps_earlier_files(tmp_path: Path) -> None:
    source, out = patterns(tmp_path, "no-privileged", "disallow-latest-tag"), tmp_path / "out"
    assert generate(source, out).returncode == 0  # an earlier (offline) run
    earlier = sorted(p.relative_to(out) for p in (out / "policies").rglob("*.yaml"))
    assert earlier
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the block ends
    result = generate(source, out, "--analyser", "claude", PATTERNPOLICY_ANTHROPIC_API_KEY=KEY,
                      PATTERNPOLICY_ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}")
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    entries = report(out)["patterns"]
    assert [e["outcome"] for e in entries] == ["error", "error"]
    assert all("cannot reach" in e["reason"] and "earlier policies are kept" in e["reason"] for e in entries)
    assert sum("- reason: cannot reach" in line for line in result.stdout.splitlines()) == 2
    assert sorted(p.relative_to(out) for p in (out / "policies").rglob("*.yaml")) == earlier


def test_a_retired_model_is_named_with_the_setting_to_change_and_asked_once(tmp_path: Path) -> None:
    with fake_anthropic(tool_use(GOOD_ANSWER)) as server:
        result = generate(patterns(tmp_path, "no-privileged", "disallow-latest-tag"), tmp_path / "out",
                          "--analyser", "claude", PATTERNPOLICY_ANTHROPIC_API_KEY=KEY,
                          PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url, PATTERNPOLICY_MODEL="claude-3-opus-20240229")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    reasons = [e["reason"] for e in report(tmp_path / "out")["patterns"]]
    assert len(reasons) == 2
    assert all("model 'claude-3-opus-20240229' is not served" in r and "set PATTERNPOLICY_MODEL" in r
               for r in reasons)
    assert len(server.requests) == 1  # the second pattern is told without asking again


def test_a_rejected_request_is_reported_per_pattern(tmp_path: Path) -> None:
    bad = error(400, "invalid_request_error", "tool_choice: not supported")
    with fake_anthropic(bad, bad) as server:
        result = generate(patterns(tmp_path, "no-privileged", "disallow-latest-tag"), tmp_path / "out",
                          "--analyser", "claude", PATTERNPOLICY_ANTHROPIC_API_KEY=KEY,
                          PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    entries = report(tmp_path / "out")["patterns"]
    assert all("HTTP 400 invalid_request_error: tool_choice: not supported" in e["reason"] for e in entries)
    assert len(server.requests) == 2


def test_choosing_claude_without_the_sdk_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked" / "anthropic"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('anthropic is not installed (simulated)')\n")
    path = os.pathsep.join([str(tmp_path / "blocked"), os.environ.get("PYTHONPATH", "")])
    result = generate(patterns(tmp_path, "no-privileged"), tmp_path / "out", "--analyser", "claude",
                      PATTERNPOLICY_ANTHROPIC_API_KEY=KEY, PYTHONPATH=path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: the Claude analyser needs the anthropic package")
    assert not (tmp_path / "out").exists()


def test_record_and_replay_are_refused_without_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATTERNPOLICY_ANALYSER", raising=False)
    for flags in ({"record": tmp_path}, {"replay": tmp_path}):
        with pytest.raises(AnalyzerNotConfigured, match="add --analyser claude"), bench_analyzers("auto", **flags):
            pass
    with bench_analyzers("auto") as analyzers:
        assert [a.name for a in analyzers] == ["offline"]
