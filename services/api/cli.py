"""The API's command: ``flightdelay serve``, and ``python -m services.api`` in its container."""

from __future__ import annotations

from typing import Annotated

import typer

from flightdelay import entry
from flightdelay.errors import PortInUse

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="address to listen on [default: FLIGHTDELAY_API_HOST]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="port [default: FLIGHTDELAY_API_PORT, 8000]", min=0, max=65535)
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="uvicorn workers [default: FLIGHTDELAY_API_WORKERS]", min=1)
    ] = None,
) -> None:
    """Run the prediction API under uvicorn. Exit code 8 when the port is taken."""
    import os
    import sys

    import uvicorn

    # The options win over the environment; the app (and each worker) reads the settings from it.
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"FLIGHTDELAY_API_{name}"] = str(value)
    settings = entry.start(log_stream=sys.stdout)  # a service's logs: nothing else is on stdout
    check_free(settings.api_host, settings.api_port)
    from services.api.server import ConnectionLimits

    uvicorn.run(
        "services.api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        log_config=None,
        access_log=False,
        http="services.api.server:GuardedHttp",  # by name: each worker imports it (limits: environment)
        **ConnectionLimits.of(settings).uvicorn_options(),
    )


def check_free(host: str, port: int) -> None:
    """Fail with one line (exit 8) before uvicorn starts when the address is taken."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): another process holds it; "
                "choose another with --port or FLIGHTDELAY_API_PORT"
            ) from None


def main() -> None:
    entry.run(app)
