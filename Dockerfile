# syntax=docker/dockerfile:1
# The Model Registry's production image: gunicorn with gunicorn.conf.py as a non-root user,
# static files collected (hashed, compressed) at build. `docker build -t model-registry .`
# Its steps are the commands CI runs; tests/hardening/test_container.py runs this file's
# manage.py step, its HEALTHCHECK and its CMD as they are written here.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- Wheels for requirements.txt, built where a compiler is (gunicorn[fast]'s C parser,
# gunicorn_h1c, is published as source only); the image itself gets no compiler.
FROM ${PYTHON_IMAGE} AS wheels
# Not pinned (hadolint DL3008): a build stage only, whose compiler follows the base image's release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r /tmp/requirements.txt

# --- The image
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WHITENOISE_USE_FINDERS=false \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app

COPY requirements.txt ./
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels -r requirements.txt

# The code stays root's: the server can read it, not change it.
COPY . .
# The key below exists for these two commands only: it is not in the image's environment, and
# the server refuses to start without a SECRET_KEY of its own.
RUN SECRET_KEY=build-time-only-key-for-collectstatic-and-check-deploy-not-shipped \
    ALLOWED_HOSTS=build.invalid STATIC_MANIFEST=true \
    sh -c 'python manage.py collectstatic --noinput && python manage.py check --deploy --fail-level WARNING'

# Numeric, so an orchestrator can tell it is not root (Kubernetes' runAsNonRoot).
USER 10001:10001
EXPOSE 8000
# Slim images have no curl. Django checks the Host header, so the probe sends the first of
# ALLOWED_HOSTS (a leading-dot wildcard without its dot).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; hosts = [h.strip().lstrip('.') for h in os.environ.get('ALLOWED_HOSTS', '').split(',') if h.strip() not in ('', '*')]; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': hosts[0] if hosts else 'localhost'}), timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]
