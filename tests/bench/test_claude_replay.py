"""`bench --analyser claude --record DIR` and `--replay DIR`: offline answers through the real client.

Answer files are Messages API response bodies; unanswered requests (a first question, or a feedback
round after a wrong answer) are written out for the next pass. Scored by the real Kyverno CLI.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_anthropic import KEY, error, fake_anthropic, tool_use
from tests.unit.test_claude_analyzer import GOOD_ANSWER, deployment

CASE = {"id": "no-host-network", "title": "No host network",
        "description": "Deployments must not use the host network.",
        "resources": [deployment("ok", None), deployment("bad", True)],
        "expected": {"Deployment/ok": "allow", "Deployment/bad": "deny"}}


def bench(cases: Path, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PATTERNPOLICY_ANTHROPIC", "ANTHROPIC_"))
            and k not in ("PATTERNPOLICY_ANALYSER", "PATTERNPOLICY_MODEL")}
    return subprocess.run([sys.executable, "-m", "patternpolicy.cli", "bench", "--cases", str(cases),
                           "--analyser", "claude", *flags], capture_output=True, text=True, timeout=300,
                          check=False, env={**base, "PATTERNPOLICY_MODEL_RETRIES": "0", **env})


def answer(tool_input: dict[str, Any], input_tokens: int, n: int) -> dict[str, Any]:
    """What a person or a model writes offline: a Messages API response body."""
    return {"id": f"msg_offline_{n}", "type": "message", "role": "assistant", "model": "claude-sonnet-5-5",
            "content": [{"type": "tool_use", "id": f"toolu_offline_{n}", "name": "propose_rules",
                         "input": tool_input}],
            "stop_reason": "tool_use", "usage": {"input_tokens": input_tokens, "output_tokens": 500}}


def unanswered(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.request.json")
                  if not p.with_name(p.name.replace(".request.", ".answer.")).exists())


def test_replay_answers_written_offline_including_a_feedback_round(tmp_path: Path, kyverno_cli: Path) -> None:
    cases, replay = tmp_path / "cases.json", tmp_path / "replay"
    cases.write_text(json.dumps({"format": 1, "cases": [CASE]}))

    first = bench(cases, "--replay", str(replay), "--json")
    assert first.returncode == 1 and "Traceback" not in first.stderr
    (result,) = json.loads(first.stdout)["results"]
    assert result["outcome"] == "error" and "no answer recorded for request" in result["reason"]
    (question,) = unanswered(replay)
    body = json.loads(question.read_text())
    assert body["model"] == "claude-sonnet-5-5" and body["tool_choice"] == {"type": "auto"}
    assert "Deployments must not use the host network" in body["messages"][0]["content"]

    wrong = copy.deepcopy(GOOD_ANSWER)
    wrong["rules"][0]["kinds"] = ["FancyDeployment"]
    question.with_name(question.name.replace(".request.", ".answer.")).write_text(json.dumps(answer(wrong, 1500, 1)))
    second = bench(cases, "--replay", str(replay), "--json")
    assert json.loads(second.stdout)["results"][0]["outcome"] == "error"
    (feedback,) = unanswered(replay)  # the feedback round is a new request, recorded for the next pass
    messages = json.loads(feedback.read_text())["messages"]
    assert messages[-1]["content"][0]["tool_use_id"] == "toolu_offline_1"
    assert "'FancyDeployment' is not served" in messages[-1]["content"][0]["content"]

    feedback.with_name(feedback.name.replace(".request.", ".answer.")).write_text(
        json.dumps(answer(GOOD_ANSWER, 1700, 2)))
    third = bench(cases, "--replay", str(replay))
    assert third.returncode == 0, third.stdout + third.stderr
    assert "claude model usage per pattern: prompt tokens median 3200" in third.stdout
    scored = bench(cases, "--replay", str(replay), "--json")
    (result,) = json.loads(scored.stdout)["results"]
    assert (result["outcome"], result["calls"], result["input_tokens"]) == ("correct", 2, 3200), result


def test_a_recorded_run_replays_offline_with_the_same_result(tmp_path: Path, kyverno_cli: Path) -> None:
    cases, record = tmp_path / "cases.json", tmp_path / "record"
    cases.write_text(json.dumps({"format": 1, "cases": [CASE]}))
    wrong = copy.deepcopy(GOOD_ANSWER)
    wrong["rules"][0]["kinds"] = ["FancyDeployment"]
    with fake_anthropic(tool_use(wrong), tool_use(GOOD_ANSWER)) as server:
        live = bench(cases, "--record", str(record), "--json", PATTERNPOLICY_ANTHROPIC_API_KEY=KEY,
                     PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url)
    assert live.returncode == 0, live.stdout + live.stderr
    assert server.refusals == []
    requests = sorted(record.glob("*.request.json"))
    assert len(requests) == 2 and len(list(record.glob("*.answer.json"))) == 2
    sent = [json.loads(p.read_text()) for p in requests]
    assert sorted(json.dumps(r["json"], sort_keys=True) for r in server.requests) == sorted(
        json.dumps(s, sort_keys=True) for s in sent), "the recorded bodies are exactly what went on the wire"

    replayed = bench(cases, "--replay", str(record), "--json")  # no key, no server: the recorded answers
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    live_result, replay_result = (json.loads(r.stdout)["results"][0] for r in (live, replayed))
    assert replay_result["outcome"] == live_result["outcome"] == "correct"
    assert replay_result["calls"] == live_result["calls"] == 2
    assert replay_result["input_tokens"] == live_result["input_tokens"] > 0


def test_bench_with_claude_unreachable_or_refused_reports_each_case_and_exits_non_zero(
        tmp_path: Path, kyverno_cli: Path) -> None:
    cases = tmp_path / "cases.json"
    second = {**CASE, "id": "no-host-network-again"}
    cases.write_text(json.dumps({"format": 1, "cases": [CASE, second]}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the block ends
    bad = error(400, "invalid_request_error", "tools.0: bad schema")
    with fake_anthropic(bad, bad) as server:  # a refused request (the 404) consumes no scripted step
        runs = {
            "cannot reach": bench(cases, PATTERNPOLICY_ANTHROPIC_API_KEY=KEY,
                                  PATTERNPOLICY_ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}"),
            "model 'claude-3-opus-20240229' is not served": bench(
                cases, PATTERNPOLICY_ANTHROPIC_API_KEY=KEY, PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url,
                PATTERNPOLICY_MODEL="claude-3-opus-20240229"),
            "HTTP 400 invalid_request_error: tools.0: bad schema": bench(
                cases, PATTERNPOLICY_ANTHROPIC_API_KEY=KEY, PATTERNPOLICY_ANTHROPIC_BASE_URL=server.url),
        }
    for words, run in runs.items():
        assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr, run.stderr
        failed = [line for line in run.stdout.splitlines() if "[error]" in line]
        assert len(failed) == 2 and all(words in line for line in failed), run.stdout
    assert len(server.requests) == 3  # the retired model was asked once; each 400 once


ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "tests" / "data" / "claude-replay"
SETS = {"fresh": ROOT / "tests" / "data" / "policy-bench-fresh" / "cases.json",
        "dev": ROOT.parent / "shared" / "policy-bench" / "cases-dev.json"}


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_recorded_conversation_still_replays(name: str, tmp_path: Path, kyverno_cli: Path) -> None:
    """The committed answers (tests/data/claude-replay/README.md) through today's client, validation and engine:
    a request that no longer matches (prompt, tools or discovery changed) is an error, never a silent skip."""
    if not SETS[name].exists():
        raise FileNotFoundError(f"{SETS[name]} is missing: the bench tier needs shared/policy-bench beside the repo")
    replay = tmp_path / name
    shutil.copytree(RECORDED / name, replay)  # unanswered requests are written here, not into the repository
    run = bench(SETS[name], "--replay", str(replay), "--json")
    report = json.loads(run.stdout)
    errors = [f"{r['id']}: {r['reason'][:200]}" for r in report["results"] if r["outcome"] == "error"]
    assert not errors, "re-answer these requests (docs/analysers.md):\n" + "\n".join(errors)
    claude = report["analysers"]["claude"]
    # Declining is fine, a wrong policy is not: what the recorded answers scored when they were written.
    assert claude["false_deny_rate"] <= 0.01, claude
    assert claude["precision"] >= 0.85, claude
    assert run.returncode == 0, run.stderr[-2000:]
