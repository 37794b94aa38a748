# syntax=docker/dockerfile:1
# Circulate API image: wheels are built in one stage, installed in a slim runtime in the next.
# Build:    docker build -t circulate .
# Migrate:  docker run --rm --env-file prod.env circulate circulate db upgrade
# Serve:    docker run --env-file prod.env -p 8000:8000 circulate
# (compose.yaml runs the three: PostgreSQL, Redis, a one-shot migration, then the API.)

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------- build: wheels
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY migrations ./migrations
# The package and every dependency as wheels; the runtime stage installs only these.
RUN pip wheel --wheel-dir /wheels .

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CIRCULATE_ENVIRONMENT=production \
    CIRCULATE_HOST=0.0.0.0 \
    CIRCULATE_PORT=8000 \
    CIRCULATE_WORKERS=2

RUN groupadd --system --gid 10001 circulate \
 && useradd --system --uid 10001 --gid circulate --home-dir /var/lib/circulate \
      --shell /usr/sbin/nologin circulate \
 && install -d -o circulate -g circulate /var/lib/circulate /var/lib/circulate/keys

RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels circulate

# Runtime state (a key file, if one is used rather than CIRCULATE_SIGNING_KEYS) lives in the
# user's writable home. Migrations are not applied here nor at start: run `circulate db upgrade`.
WORKDIR /var/lib/circulate
USER circulate:circulate

EXPOSE 8000
# The liveness probe, with the standard library (the slim image has no curl).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CIRCULATE_PORT', '8000'), timeout=4)"]
# gunicorn with CIRCULATE_WORKERS processes (entrypoints/gunicorn_conf.py has the rest).
CMD ["sh", "-c", "exec circulate serve --workers \"${CIRCULATE_WORKERS}\""]
