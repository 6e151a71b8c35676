"""Bad Pattern inputs (tests/data/bad_inputs/patterns.yaml): refused with a reason, or kept intact."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.adapters.workdirs import remove_stale, workdir
from patternpolicy.compile.naming import policy_annotations
from patternpolicy.labels import label_value
from patternpolicy.models.pattern import InvalidPattern, parse_pattern_object
from patternpolicy.models.rules import Validation
from patternpolicy.yamlio import dump
from tests.support.bad_inputs import CATALOGUES, counts, load

CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "bad_inputs" / "patterns.yaml").read_text())["cases"]
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"


def _pattern(case: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "patternpolicy.io/v1alpha1", "kind": "Pattern", "metadata": {"name": case["name"]},
            "spec": case["spec"]}


@pytest.mark.parametrize("case", [c for c in CASES if c["error"] is not None], ids=lambda c: c["id"])
def test_bad_pattern_is_refused_with_the_reason(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidPattern) as refused:
        parse_pattern_object(_pattern(case))
    assert case["error"].lower() in str(refused.value).lower()
    assert str(refused.value).startswith("spec.")  # says which field


@pytest.mark.parametrize("case", [c for c in CASES if c["error"] is None], ids=lambda c: c["id"])
def test_accepted_pattern_keeps_its_text_intact_in_yaml(case: dict[str, Any]) -> None:
    pattern = parse_pattern_object(_pattern(case))
    written = dump({"metadata": {"annotations": policy_annotations("rule", pattern.spec.description)}})
    assert "\\U" not in written and "\\u" not in written  # no escapes a Go decoder may refuse
    annotation = yaml.safe_load(written)["metadata"]["annotations"]["patternpolicy.io/pattern-description"]
    assert annotation == " ".join(pattern.spec.description.split())


@pytest.mark.parametrize("catalogue", sorted(CATALOGUES))
def test_every_bad_input_case_is_in_exactly_one_category(catalogue: str) -> None:
    """What benchmarks/bench_bad_inputs.py prints: a case in no category, or in two, would go uncounted."""
    found = counts(catalogue)  # raises for a case in none or several
    assert sum(found.values()) == len(load(catalogue)["cases"]) and all(found.values())


def test_catalogue_covers_the_categories() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 80
    for prefix in ("description-", "rationale-", "namespaces-", "engine-", "accepted-"):
        assert any(i.startswith(prefix) for i in ids), prefix


@pytest.mark.parametrize("name", ["a" * 63 + "-g1", "p" * 63 + "-g12345", "x" * 300])
def test_long_names_become_valid_distinct_label_values(name: str) -> None:
    value = label_value(name)
    assert len(value) <= 63 and re.match(LABEL_VALUE, value)
    assert label_value(name[:-1] + "9") != value  # two proposals never share a label


def test_short_label_values_are_kept() -> None:
    assert label_value("require-limits-g3") == "require-limits-g3"


def test_messages_and_annotations_lose_escapes_and_overrides() -> None:
    message = Validation(expression="true", message="\x1b[2Jdenied\u202e by \x00policy").message
    assert message == "denied by policy"
    annotations = policy_annotations("a\x1b[31mb", "c\u2066d")
    assert set("".join(annotations.values())).isdisjoint({"\x1b", "\u2066"})


def test_stale_work_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    stale = tmp_path / f"patternpolicy-{int(dead.stdout)}-suite-x"
    live = tmp_path / f"patternpolicy-{os.getpid()}-suite-y"
    foreign = tmp_path / "patternpolicy-notes"
    for path in (stale, live, foreign):
        path.mkdir()
    assert remove_stale(tmp_path) == [stale]
    assert live.exists() and foreign.exists()


def test_work_folders_carry_the_process_id() -> None:
    with workdir("suite") as path:
        assert path.name.startswith(f"patternpolicy-{os.getpid()}-suite-")
    assert not path.exists()
