"""Real flights as the API client takes them: what the demo and `flightdelay ask` send."""

from __future__ import annotations

import pandas as pd

from apiclient import Flight


def as_flights(flights: pd.DataFrame) -> list[Flight]:
    """Rows of the normalized flight table as asked before departure: carrier, airports, local
    scheduled times, flight number."""
    return [
        Flight(
            carrier=r.carrier,
            origin=r.origin,
            dest=r.dest,
            scheduled_departure=r.sched_dep_local.to_pydatetime(),
            scheduled_arrival=r.sched_arr_local.to_pydatetime(),
            flight_number=r.flight_number,
        )
        for r in flights.itertuples()
    ]
