# meshwatch: the collector daemon by default; the dashboard with
#   docker run … meshwatch meshwatch dashboard --config /config --port 8501 --address 0.0.0.0
# See docs/deploy.md.
ARG PYTHON_VERSION=3.11.11
FROM python:${PYTHON_VERSION}-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MESHWATCH_CONFIG=/config \
    MESHWATCH_DATABASE_URL=sqlite:////data/meshwatch.db \
    MESHWATCH_DAEMON__LISTEN=0.0.0.0:8470

RUN groupadd --system --gid 10001 meshwatch \
    && useradd --system --uid 10001 --gid meshwatch --create-home --home-dir /home/meshwatch \
       --shell /usr/sbin/nologin meshwatch \
    && mkdir /data \
    && chown meshwatch:meshwatch /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
# A regular install with every extra (azure, postgres, dashboard, telemetry, demo): the dashboard
# ships inside the package (monitor/dashboard/). A leaner image may install fewer extras.
ARG EXTRAS=all
RUN pip install ".[${EXTRAS}]" \
    && rm -rf /root/.cache /app
WORKDIR /home/meshwatch
# The example mesh, so the image runs as it is; mount your own read-only over it.
COPY config /config

USER meshwatch
VOLUME ["/config", "/data"]
EXPOSE 8470 8501

# The daemon's /healthz (503 when degraded); a dashboard container answers on Streamlit's health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as r\nfor url in ('http://127.0.0.1:8470/healthz', 'http://127.0.0.1:8501/_stcore/health'):\n    try:\n        r.urlopen(url, timeout=4)\n        sys.exit(0)\n    except OSError:\n        pass\nsys.exit(1)"]

# Several workers (docs/deploy.md#several-workers):
# - one container, all its cores: add `--workers auto` (or set MESHWATCH_WORKERS=auto); the
#   workers share the SQLite file in /data and the port 8470.
# - N replicas (on one host or many) need PostgreSQL: run each with
#   -e MESHWATCH_DATABASE_URL=postgresql://user@db/meshwatch and the same /config; they divide the
#   products among themselves through leases in the database, any number may start at once
#   (migrations take a lock), and a replica that dies is covered by the others within ~25 s.
#   Give the replicas no shared /data volume: with PostgreSQL they keep nothing on disk.
# SIGTERM (docker stop) stops a worker cleanly within 10 s, under the default 10 s grace.
CMD ["meshwatch", "run", "--config", "/config"]
