# The operator image: CPU-only, no model weights unless the analysis extras are installed.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip install --no-cache-dir --prefix=/install '.[claude]'

FROM python:3.11-slim
COPY --from=build /install /usr/local
USER 65532:65532
ENTRYPOINT ["patternpolicy"]
CMD ["run", "--standalone"]
