"""Shared fixtures: the real binaries, a real control plane, the operator in-process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import bin_dir

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    """Sets a variable for the session (subprocesses inherit it) and restores what was there."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@pytest.fixture(scope="session", autouse=True)
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The capability index of every operator and CLI run by the tests: never the user's ~/.cache."""
    path = tmp_path_factory.mktemp("capability-index")
    with environment("PATTERNPOLICY_INDEX_PATH", str(path)):
        yield path


@pytest.fixture(scope="session", autouse=True)
def metrics_port() -> Iterator[None]:
    """Operators started by the tests serve /metrics on a free port, never on a fixed one another run holds."""
    with environment("PATTERNPOLICY_METRICS_PORT", os.environ.get("PATTERNPOLICY_METRICS_PORT", "0")):
        yield


@pytest.fixture(scope="session")
def binaries() -> Path:
    return bin_dir()


@pytest.fixture(scope="session")
def kyverno_cli(binaries: Path) -> Iterator[Path]:
    path = binaries / "kyverno"
    with environment("PATTERNPOLICY_KYVERNO", str(path)):
        yield path
