# statbot: `docker build -t statbot .` then see docker-compose.yml.
# The build stage makes the wheel (the migrations ride inside it); the image installs the
# locked dependencies (exact versions, hashes checked), then the wheel, and keeps no source.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY adapters ./adapters
COPY alembic ./alembic
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

RUN useradd --create-home --uid 10001 statbot
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-deps /wheels/statbot-*.whl && rm -rf /wheels && pip check
COPY examples ./examples

USER statbot
ENV STATBOT_HOST=0.0.0.0 STATBOT_PORT=3978
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"STATBOT_PORT\", \"3978\")}/healthz', timeout=4)" || exit 1
CMD ["sh", "-c", "statbot db upgrade && statbot org apply ${STATBOT_ORG_FILE:-examples/org.yaml} && exec statbot serve"]
