# Circulate API image.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 circulate \
 && useradd --system --uid 10001 --gid circulate --home-dir /var/lib/circulate \
      --shell /usr/sbin/nologin circulate \
 && install -d -o circulate -g circulate /var/lib/circulate

WORKDIR /src
COPY pyproject.toml ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY migrations ./migrations
RUN pip install . \
 && rm -rf /src

# Runtime state (the embedded SQLite file by default) lives in the user's writable home.
WORKDIR /var/lib/circulate
USER circulate

EXPOSE 8000
CMD ["circulate", "serve", "--host", "0.0.0.0", "--port", "8000"]
