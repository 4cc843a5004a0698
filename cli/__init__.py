"""The ``flightdelay`` command: it composes the stages' sub-apps (the top of the import graph)."""
