"""The API's command: ``flightdelay serve``, and ``python -m services.api`` in its container."""

from __future__ import annotations

import typer

from flightdelay import entry

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.command()
def serve() -> None:
    """Run the prediction API under uvicorn (host, port and workers from FLIGHTDELAY_API_*)."""
    import sys

    import uvicorn

    settings = entry.start(log_stream=sys.stdout)  # a service's logs: nothing else is on stdout
    uvicorn.run(
        "services.api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        log_config=None,
        access_log=False,
    )


def main() -> None:
    entry.run(app)
