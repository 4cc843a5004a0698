# One Dockerfile, four images: docker build --target api|fetcher|evaluator|training -t … .
# They share the build and the runtime layers; only the installed extras and the command differ.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY flightdelay ./flightdelay
COPY services ./services
COPY training ./training
RUN /opt/venv/bin/pip install --no-cache-dir .

FROM build AS build-api
RUN /opt/venv/bin/pip install --no-cache-dir ".[api]"

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
