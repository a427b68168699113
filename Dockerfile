# The LocalGhost edge service for hosts other than Render (render.yaml builds without it).
# Build: docker build -t localghost-api .
# Run:   docker run -p 8000:8000 --env-file .env localghost-api
# The build reaches only the Python package index; nothing else is downloaded.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    ENV=production

WORKDIR /app

# Dependencies first (cached while only the code changes), at the locked versions.
COPY pyproject.toml requirements.lock README.md ./
COPY service/__init__.py service/__init__.py
RUN pip install -c requirements.lock .

COPY service ./service
RUN pip install --no-deps -c requirements.lock . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app

USER 10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/api/v1/health\", timeout=4)"]

# A shell, so $PORT and $WEB_CONCURRENCY come from the environment; exec, so uvicorn gets
# the signals.
CMD ["sh", "-c", "exec uvicorn service.main:app --host 0.0.0.0 --port \"$PORT\" --workers \"${WEB_CONCURRENCY:-2}\""]
