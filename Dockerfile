# syntax=docker/dockerfile:1
# Gongkai 公开: one image = the code + one built release, served read-only by a non-root user.
# `make image` builds it; deploy/ runs it (Kubernetes: deploy/kubernetes/, cache tier: deploy/nginx/).
# The same path (/srv/gongkai) in both stages: the build's `build/site` symlink is relative, and
# the release's lock and marker files travel with it (gongkai/releases.py).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /srv/gongkai
# Dependencies first, so a change to the datasets alone reuses this layer.
COPY pyproject.toml README.md ./
COPY gongkai ./gongkai
# Installed into the venv (package data included: gongkai/locales/), then the source copy goes,
# so exactly one gongkai is importable.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib \
    && rm -rf /srv/gongkai/gongkai
COPY plugins ./plugins
COPY templates ./templates
COPY static ./static
COPY metadata ./metadata
COPY datasets ./datasets
# The release baked into the image: a build that fails (an invalid dataset) fails the image.
RUN /opt/venv/bin/gongkai build --out /srv/gongkai/build --quiet \
    && rm -rf /srv/gongkai/build/servers

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8001
RUN groupadd --system --gid 10001 gongkai \
    && useradd --system --uid 10001 --gid gongkai --home-dir /srv/gongkai --shell /usr/sbin/nologin gongkai
COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/gongkai /srv/gongkai
# Only the server registry (build/servers/, where `gongkai reload` finds the server) is written
# at run time; the code and the release stay root-owned and read-only to the server's user.
RUN mkdir -p /srv/gongkai/build/servers && chown gongkai:gongkai /srv/gongkai/build/servers
WORKDIR /srv/gongkai
USER 10001:10001
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8001\")}/-/health', timeout=4)"]
# Two workers: `gongkai serve` defaults to one per core, and in a container that is the host's
# cores, not the container's CPU limit. Scale with replicas; override with --workers.
CMD ["gongkai", "serve", "--out", "/srv/gongkai/build", "--root", "/srv/gongkai", "--host", "0.0.0.0", "--workers", "2"]
