"""The command line on bad input and unreachable services: one line, a documented exit code, nothing lost."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy import cli as cli_module

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "patterns"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "patternpolicy.cli", *args], capture_output=True, text=True,
                          timeout=180, check=False, env={**os.environ, **(env or {})})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed once the block ends: nothing listens there


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def unreachable_kubeconfig(tmp_path: Path) -> Path:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{closed_port()}",
                                               "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}},
                     {"name": "other", "context": {"cluster": "c", "user": "u"}}]}))
    return kubeconfig


@pytest.mark.parametrize("verb", [["doctor"], ["doctor", "--strict"], ["approve", "x-g1"], ["diff", "x-g1"],
                                  ["export", "-o", "OUT"], ["diff", "x-g1", "--context", "other"]])
def test_every_cluster_verb_on_an_unreachable_cluster_is_one_line_and_exit_3(
        verb: list[str], unreachable_kubeconfig: Path, tmp_path: Path) -> None:
    args = [str(tmp_path / "out") if a == "OUT" else a for a in verb]
    line = assert_one_error_line(cli(*args, "--kubeconfig", str(unreachable_kubeconfig)), 3)
    assert "cannot reach the cluster at https://127.0.0.1:" in line and "connection refused" in line
    assert not (tmp_path / "out").exists()


def test_missing_kubeconfig_or_context_is_one_line_and_exit_3(unreachable_kubeconfig: Path, tmp_path: Path) -> None:
    assert "--kubeconfig" in assert_one_error_line(cli("approve", "x-g1", "--kubeconfig", str(tmp_path / "nope")), 3)
    line = assert_one_error_line(cli("doctor", "--kubeconfig", str(unreachable_kubeconfig), "--context", "nope"), 3)
    assert "nope" in line


def test_debug_shows_the_traceback(unreachable_kubeconfig: Path) -> None:
    result = cli("doctor", "--kubeconfig", str(unreachable_kubeconfig), "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli("doctor", "--format", "xml").returncode == 2
    line = assert_one_error_line(cli("generate", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "o")), 2)
    assert "no such file" in line
    (tmp_path / "cases.json").write_text("{not json")
    assert_one_error_line(cli("bench", "--cases", str(tmp_path / "cases.json")), 2)
    for verb in ("doctor", "run"):
        assert "PATTERNPOLICY_LOG_LEVEL" in assert_one_error_line(cli(verb, env={"PATTERNPOLICY_LOG_LEVEL": "LOUD"}), 2)


class FakeCluster:
    """The two reads `diff` makes, answered in-process (the real API is exercised in tests/cluster)."""

    def __init__(self, proposed: list[dict[str, Any]], applied: list[dict[str, Any]]) -> None:
        self.proposal = {"metadata": {"name": "p-g2"}, "spec": {"patternRef": {"name": "p"}, "policies": proposed}}
        self.applied = applied

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from patternpolicy.adapters import kube
        from patternpolicy.services import apply

        monkeypatch.setattr(kube, "use_kubeconfig", lambda *_: None)
        monkeypatch.setattr(kube, "get_proposal", lambda name: self.proposal if name == "p-g2" else None)
        monkeypatch.setattr(kube, "list_proposals", lambda pattern: [])
        monkeypatch.setattr(apply, "applied_policies_of", lambda pattern, exclude: (self.applied, ["p-g1"]))


POLICY = {"apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": {"name": "p-r"},
          "spec": {"validations": [{"expression": "true"}]}}


def test_diff_exits_1_when_the_proposal_would_change_something(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    changed = {**POLICY, "spec": {"validations": [{"expression": "false"}]}}
    FakeCluster([changed], [POLICY]).install(monkeypatch)
    assert cli_module.main(["diff", "p-g2"]) == 1
    assert "+  - expression: 'false'" in capsys.readouterr().out
    assert cli_module.main(["diff", "p-g2", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["differs"] is True and data["proposal"] == "p-g2" and data["appliedBy"] == ["p-g1"]


def test_diff_exits_0_when_nothing_changes(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    FakeCluster([POLICY], [POLICY]).install(monkeypatch)
    assert cli_module.main(["diff", "p-g2", "--format", "yaml"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["differs"] is False
    assert cli_module.main(["diff", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "error: no PolicyProposal or Pattern named 'nope'"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The examples through `generate --format json` once: (output directory, stdout parsed)."""
    out = tmp_path_factory.mktemp("generated") / "out"
    result = cli("generate", str(EXAMPLES), "--crds", str(ROOT / "examples" / "crds"), "-o", str(out),
                 "--no-verify", "--format", "json")
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


def test_generate_json_summary_matches_the_report(generated: tuple[Path, dict[str, Any]]) -> None:
    out, summary = generated
    assert summary["output"] == str(out) and summary["ok"] is True
    assert summary["patterns"] == json.loads((out / "report.json").read_text())["patterns"]


def test_policies_are_flat_and_the_kustomization_lists_exactly_them(generated: tuple[Path, dict[str, Any]]) -> None:
    out, summary = generated
    assert all(p.is_file() for p in (out / "policies").iterdir())  # no sub-directories: non-recursive sync works
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    resources = kustomization["resources"]
    assert sorted(resources) == sorted(f"policies/{p.name}" for p in (out / "policies").iterdir())
    assert sorted(resources) == sorted(f for p in summary["patterns"] for f in p["files"])
    assert not [r for r in resources if not r.startswith("policies/")]
    kinds = {d["kind"] for r in resources for d in yaml.safe_load_all((out / r).read_text())}
    assert kinds <= {"ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy",
                     "ValidatingAdmissionPolicyBinding"}
    # Each suite still finds its policies one level up.
    for suite in (out / "tests").iterdir():
        test = yaml.safe_load((suite / "kyverno-test.yaml").read_text())
        assert test["policies"] and all((suite / p).resolve().is_file() for p in test["policies"])


def test_a_generate_that_raises_leaves_the_previous_output_untouched(generated: tuple[Path, dict[str, Any]],
                                                                      tmp_path: Path) -> None:
    from patternpolicy.discovery.catalog import KindCatalog
    from patternpolicy.services.generate import generate

    class Crashing:
        name = "crashing"

        def analyze(self, pattern: Any, catalog: Any, discovery: Any) -> Any:
            raise RuntimeError("a bug in an analyser")

    out = tmp_path / "out"
    shutil.copytree(generated[0], out)
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(RuntimeError, match="a bug"):
        generate([EXAMPLES], out, Crashing(), KindCatalog.builtin(), verify=False)
    after = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging directory left behind


def test_an_unreachable_model_keeps_earlier_policies_in_the_kustomization(generated: tuple[Path, dict[str, Any]],
                                                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(generated[0], out)
    earlier = (out / "policies" / "no-privileged-no-privileged.yaml").read_bytes()
    result = cli("generate", str(EXAMPLES / "no-privileged.yaml"), "-o", str(out), "--analyzer", "claude",
                 env={"PATTERNPOLICY_ANTHROPIC_API_KEY": "k", "PATTERNPOLICY_MODEL_RETRIES": "0",
                      "PATTERNPOLICY_ANTHROPIC_BASE_URL": f"http://127.0.0.1:{closed_port()}"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (entry,) = json.loads((out / "report.json").read_text())["patterns"]
    assert entry["outcome"] == "error" and "earlier policies are kept" in entry["reason"]
    assert (out / "policies" / "no-privileged-no-privileged.yaml").read_bytes() == earlier
    resources = yaml.safe_load((out / "kustomization.yaml").read_text())["resources"]
    assert resources == ["policies/no-privileged-no-privileged.yaml"]  # still applied by GitOps, not deleted
    assert (out / "tests" / "no-privileged" / "kyverno-test.yaml").exists()


def test_generate_strict_fails_on_declined_and_unproven(tmp_path: Path) -> None:
    patterns = tmp_path / "patterns"
    patterns.mkdir()
    for name in ("no-privileged.yaml", "prefer-managed-databases.yaml"):
        shutil.copy(EXAMPLES / name, patterns / name)
    relaxed = cli("generate", str(patterns), "-o", str(tmp_path / "a"), "--no-verify")
    assert relaxed.returncode == 0, relaxed.stderr
    strict = cli("generate", str(patterns), "-o", str(tmp_path / "b"), "--no-verify", "--strict")
    assert strict.returncode == 1
    assert "strict: prefer-managed-databases: declined" in strict.stderr
    assert "strict: no-privileged: behaviour not run (--no-verify)" in strict.stderr


def test_generate_reports_invalid_pattern_files_and_exits_non_zero(tmp_path: Path) -> None:
    patterns = tmp_path / "patterns"
    patterns.mkdir()
    (patterns / "good.yaml").write_text((EXAMPLES / "no-privileged.yaml").read_text())
    (patterns / "bad.yaml").write_text("apiVersion: patternpolicy.io/v1alpha1\nkind: Pattern\n"
                                       "metadata: {name: short}\nspec: {description: too short}\n")
    (patterns / "broken.yaml").write_text("kind: Pattern\nspec: [unclosed\n")
    out = tmp_path / "out"
    result = cli("generate", str(patterns), "-o", str(out), "--no-verify")
    assert result.returncode == 1
    report = (out / "report.md").read_text()
    assert "invalid Pattern: spec.description" in report and "cannot read" in report
    assert (out / "policies" / "no-privileged-no-privileged.yaml").exists()


def test_generate_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "mine.yaml").write_text("keep: me\n")
    result = cli("generate", str(EXAMPLES), "-o", str(tmp_path), "--no-verify")
    assert "not written by patternpolicy" in assert_one_error_line(result, 2)
    assert (tmp_path / "policies" / "mine.yaml").read_text() == "keep: me\n"


def test_cli_logs_as_json_lines_with_time_and_severity(unreachable_kubeconfig: Path) -> None:
    result = cli("doctor", "--kubeconfig", str(unreachable_kubeconfig), "--verbose",
                 env={"PATTERNPOLICY_LOG_FORMAT": "json"})
    assert result.returncode == 3
    *logged, last = result.stderr.strip().splitlines()
    entries = [json.loads(line) for line in logged]
    assert entries and all({"timestamp", "severity", "logger", "message"} <= set(e) for e in entries)
    assert any("Retrying" in e["message"] for e in entries)  # transport retries, with their reason
    assert last.startswith("error: cannot reach the cluster")


def test_progress_lines_only_on_a_terminal_and_after_a_quiet_start() -> None:
    import io

    from patternpolicy.console.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped, terminal, early = io.StringIO(), Terminal(), Terminal()
    Progress("pattern", stream=piped, quiet_for=0).step(0, 2, "a")
    Progress("pattern", stream=early, quiet_for=60).step(0, 2, "a")
    Progress("pattern", stream=terminal, quiet_for=0).step(1, 2, "b")
    assert piped.getvalue() == "" and early.getvalue() == ""
    assert terminal.getvalue().startswith("pattern 2/2: b (")


def test_the_operators_own_namespace_is_never_governed(monkeypatch: pytest.MonkeyPatch) -> None:
    from patternpolicy.compile.scope import namespace_selector
    from patternpolicy.models.pattern import NamespaceScope

    monkeypatch.setenv("PATTERNPOLICY_NAMESPACE", "policy-ops")
    (expression,) = namespace_selector(NamespaceScope())["matchExpressions"]
    assert expression["operator"] == "NotIn" and "policy-ops" in expression["values"]
    included = namespace_selector(NamespaceScope(include=["policy-ops"]))["matchExpressions"]
    assert all("policy-ops" not in e["values"] for e in included if e["operator"] == "NotIn")


def test_staging_folders_of_killed_runs_are_removed_by_the_next_run(tmp_path: Path) -> None:
    from patternpolicy.services.output_dir import staged

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    left = tmp_path / f"patternpolicy-{dead}-out-abc.partial"
    left.mkdir()
    with staged(tmp_path / "out") as work:
        (work / "report.md").write_text("new\n")
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (tmp_path / "out" / "report.md").read_text() == "new\n"


def test_an_output_that_is_a_mount_point_is_staged_inside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from patternpolicy.services import output_dir

    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("kept\n")
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == out)
    with output_dir.staged(out) as work:
        assert work.parent == out  # a rename across file systems would fail
        (work / "report.md").write_text("new\n")
    assert sorted(p.name for p in out.iterdir()) == [".patternpolicy-output", "mine.txt", "report.md"]
