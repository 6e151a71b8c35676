"""Shared fixtures: the real binaries, a real control plane, the operator in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import bin_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The capability index of every operator and CLI run by the tests: never the user's ~/.cache."""
    path = tmp_path_factory.mktemp("capability-index")
    previous = os.environ.get("PATTERNPOLICY_INDEX_PATH")
    os.environ["PATTERNPOLICY_INDEX_PATH"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("PATTERNPOLICY_INDEX_PATH", None)
    else:
        os.environ["PATTERNPOLICY_INDEX_PATH"] = previous


@pytest.fixture(scope="session")
def binaries() -> Path:
    return bin_dir()


@pytest.fixture(scope="session")
def kyverno_cli(binaries: Path) -> Iterator[Path]:
    path = binaries / "kyverno"
    previous = os.environ.get("PATTERNPOLICY_KYVERNO")
    os.environ["PATTERNPOLICY_KYVERNO"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("PATTERNPOLICY_KYVERNO", None)
    else:
        os.environ["PATTERNPOLICY_KYVERNO"] = previous
