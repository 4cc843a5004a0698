# One Dockerfile, five images: docker build --target api|fetcher|conditions|evaluator|training -t … .
# They share the build and the runtime layers; only the installed extras and the command differ.
FROM python:3.11-slim AS build
# Every version comes from uv.lock (--locked refuses a lock that no longer matches pyproject.toml).
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
# The dependencies first, in a layer of their own: a code change does not reinstall them.
RUN uv sync --locked --no-install-project --no-cache
COPY flightdelay ./flightdelay
COPY services ./services
COPY training ./training
COPY cli ./cli
RUN uv sync --locked --no-editable --no-cache

FROM build AS build-api
RUN uv sync --locked --no-editable --no-cache --extra api

FROM python:3.11-slim AS runtime
ARG GIT_COMMIT=unknown
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    GIT_COMMIT=${GIT_COMMIT}
USER 10001:10001

# The scheduled tasks run to completion; ECS reads their exit codes (documented per service).
FROM runtime AS fetcher
COPY --from=build /opt/venv /opt/venv
CMD ["python", "-m", "services.fetcher"]

FROM runtime AS conditions
COPY --from=build /opt/venv /opt/venv
CMD ["python", "-m", "services.conditions"]

FROM runtime AS evaluator
COPY --from=build /opt/venv /opt/venv
CMD ["python", "-m", "services.evaluator"]

FROM runtime AS training
COPY --from=build /opt/venv /opt/venv
CMD ["python", "-m", "training"]

# The API is the last stage, so a plain `docker build .` gives the service.
FROM runtime AS api
COPY --from=build-api /opt/venv /opt/venv
ENV FLIGHTDELAY_API_HOST=0.0.0.0 FLIGHTDELAY_API_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["python", "-m", "services.api"]
