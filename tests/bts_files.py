"""Files in BTS's and IEM's real download layouts, for the import tests.

The column lists are the layouts' own, in their order (BTS's record layouts as its readme lists
them; IEM's asos.py CSV with every data column), including what the importers never read, so a
test sees the file a user downloads: BTS quotes its text fields, ends each line with a comma (an
unnamed last column), pads one Marketing Carrier name with a space ("Operating_Airline ") and
zips the month's CSV with a readme.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

_DIVERSIONS = [
    f"Div{i}{name}"
    for i in range(1, 6)
    for name in (
        "Airport",
        "AirportID",
        "AirportSeqID",
        "WheelsOn",
        "TotalGTime",
        "LongestGTime",
        "WheelsOff",
        "TailNum",
    )
]
_AIRPORTS = [
    "{}AirportID",
    "{}AirportSeqID",
    "{}CityMarketID",
    "{}",
    "{}CityName",
    "{}State",
    "{}StateFips",
    "{}StateName",
    "{}Wac",
]
_PERFORMANCE = [
    "CRSDepTime", "DepTime", "DepDelay", "DepDelayMinutes", "DepDel15", "DepartureDelayGroups",
    "DepTimeBlk", "TaxiOut", "WheelsOff", "WheelsOn", "TaxiIn", "CRSArrTime", "ArrTime", "ArrDelay",
    "ArrDelayMinutes", "ArrDel15", "ArrivalDelayGroups", "ArrTimeBlk", "Cancelled", "CancellationCode",
    "Diverted", "CRSElapsedTime", "ActualElapsedTime", "AirTime", "Flights", "Distance", "DistanceGroup",
    "CarrierDelay", "WeatherDelay", "NASDelay", "SecurityDelay", "LateAircraftDelay", "FirstDepTime",
    "TotalAddGTime", "LongestAddGTime", "DivAirportLandings", "DivReachedDest", "DivActualElapsedTime",
    "DivArrDelay", "DivDistance",
]  # fmt: skip
_ROUTE = [f.format("Origin") for f in _AIRPORTS] + [f.format("Dest") for f in _AIRPORTS]
_DATE = ["Year", "Quarter", "Month", "DayofMonth", "DayOfWeek", "FlightDate"]

REPORTING = [
    *_DATE,
    "Reporting_Airline",
    "DOT_ID_Reporting_Airline",
    "IATA_CODE_Reporting_Airline",
    "Tail_Number",
    "Flight_Number_Reporting_Airline",
    *_ROUTE,
    *_PERFORMANCE,
    *_DIVERSIONS,
]
MARKETING = [
    *_DATE,
    "Marketing_Airline_Network",
    "Operated_or_Branded_Code_Share_Partners",
    "DOT_ID_Marketing_Airline",
    "IATA_Code_Marketing_Airline",
    "Flight_Number_Marketing_Airline",
    "Originally_Scheduled_Code_Share_Airline",
    "DOT_ID_Originally_Scheduled_Code_Share_Airline",
    "IATA_Code_Originally_Scheduled_Code_Share_Airline",
    "Flight_Num_Originally_Scheduled_Code_Share_Airline",
    "Operating_Airline ",  # sic: BTS's header pads this one name
    "DOT_ID_Operating_Airline",
    "IATA_Code_Operating_Airline",
    "Tail_Number",
    "Flight_Number_Operating_Airline",
    *_ROUTE,
    *_PERFORMANCE,
    *_DIVERSIONS,
]
# The 1987-2008 files (the ASA Data Expo's copy of BTS): no FlightDate, its own short names.
EXPO = [
    "Year", "Month", "DayofMonth", "DayOfWeek", "DepTime", "CRSDepTime", "ArrTime", "CRSArrTime",
    "UniqueCarrier", "FlightNum", "TailNum", "ActualElapsedTime", "CRSElapsedTime", "AirTime",
    "ArrDelay", "DepDelay", "Origin", "Dest", "Distance", "TaxiIn", "TaxiOut", "Cancelled",
    "CancellationCode", "Diverted", "CarrierDelay", "WeatherDelay", "NASDelay", "SecurityDelay",
    "LateAircraftDelay",
]  # fmt: skip
IEM_ASOS = [
    "station", "valid", "lon", "lat", "tmpf", "dwpf", "relh", "drct", "sknt", "p01i", "alti", "mslp",
    "vsby", "gust", "skyc1", "skyc2", "skyc3", "skyc4", "skyl1", "skyl2", "skyl3", "skyl4", "wxcodes",
    "ice_accretion_1hr", "ice_accretion_3hr", "ice_accretion_6hr", "peak_wind_gust", "peak_wind_drct",
    "peak_wind_time", "feel", "metar", "snowdepth",
]  # fmt: skip


def flight(
    day: str,
    carrier: str,
    number: int,
    origin: str,
    dest: str,
    dep: str,
    arr: str,
    *,
    dep_delay: float | None = 0.0,
    arr_delay: float | None = 0.0,
    tail: str = "N123AA",
    cancelled: bool = False,
    diverted: bool = False,
) -> dict[str, object]:
    """One flight's fields by BTS name (each layout takes the names it has)."""
    year, month, dom = (int(part) for part in day.split("-"))
    fields: dict[str, object] = {
        "Year": year,
        "Quarter": (month - 1) // 3 + 1,
        "Month": month,
        "DayofMonth": dom,
        "FlightDate": day,
        "Origin": origin,
        "Dest": dest,
        "CRSDepTime": dep,
        "CRSArrTime": arr,
        "DepDelay": dep_delay,
        "ArrDelay": arr_delay,
        "Cancelled": 1.0 if cancelled else 0.0,
        "Diverted": 1.0 if diverted else 0.0,
        "Flights": 1.0,
        "Distance": 500.0,
    }
    for name in ("Reporting_Airline", "IATA_CODE_Reporting_Airline", "Operating_Airline ", "UniqueCarrier"):
        fields[name] = carrier
    fields["Marketing_Airline_Network"] = fields["IATA_Code_Marketing_Airline"] = carrier
    for name in ("Flight_Number_Reporting_Airline", "Flight_Number_Operating_Airline", "FlightNum"):
        fields[name] = number
    fields["Flight_Number_Marketing_Airline"] = number
    fields["Tail_Number"] = fields["TailNum"] = tail
    return fields


def _bts_field(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'


def csv_bytes(columns: list[str], rows: Iterable[Mapping[str, object]], *, bts_style: bool = True) -> bytes:
    """A CSV as BTS writes it (``bts_style``): names and text fields quoted, numbers bare with two
    decimals ("-3.00"), a comma ending each line (BTS's unnamed last column); else plain CSV."""
    if bts_style:
        lines = [",".join(_bts_field(name) for name in columns) + ","]
        lines += [",".join(_bts_field(row.get(name)) for name in columns) + "," for row in rows]
        return ("\n".join(lines) + "\n").encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(name) is None else row.get(name) for name in columns])
    return out.getvalue().encode()


def zipped_like_bts(path: Path, csv_name: str, data: bytes) -> Path:
    """The month's CSV in a zip beside a readme, as BTS's PREZIP downloads are."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_name, data)
        archive.writestr("readme.html", "<html><body>RECORD LAYOUT ...</body></html>")
    return path


def month(
    year: int,
    month_number: int,
    *,
    origin: str = "DEN",
    dests: tuple[str, ...] = ("PHX", "SEA", "LAS", "SLC", "ORD", "DFW"),
    carriers: tuple[str, ...] = ("WN", "UA", "F9"),
    per_day: int = 60,
    seed: int = 7,
) -> list[dict[str, object]]:
    """A month of departures from one airport, as BTS lists them: evening flights and one carrier
    late more often (something a model can learn), a few cancelled."""
    import calendar
    import random

    rng = random.Random(seed)
    rows = []
    for dom in range(1, calendar.monthrange(year, month_number)[1] + 1):
        day = f"{year:04d}-{month_number:02d}-{dom:02d}"
        for i in range(per_day):
            hour = 6 + (i * 16) // per_day
            carrier, dest = carriers[i % len(carriers)], dests[(i // len(carriers)) % len(dests)]
            late_chance = 0.08 + 0.03 * (hour - 6) + (0.15 if carrier == "F9" else 0.0)
            delay = rng.uniform(16, 120) if rng.random() < late_chance else rng.uniform(-15, 10)
            cancelled = rng.random() < 0.01
            rows.append(
                flight(
                    day, carrier, 100 + i, origin, dest, f"{hour:02d}{(i * 7) % 60:02d}",
                    f"{(hour + 2) % 24:02d}{(i * 7) % 60:02d}",
                    dep_delay=None if cancelled else round(delay - 5, 0),
                    arr_delay=None if cancelled else round(delay, 0),
                    cancelled=cancelled, tail=f"N{100 + i % 40}XX",
                )
            )  # fmt: skip
    return rows
