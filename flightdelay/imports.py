"""What the importers of users' own history share (bts.py for flights, iem.py for weather): opening
a file as downloaded (a zip holding one CSV, or a plain CSV), reading its header, counting the bytes
read for a progress bar, and keeping the rows left out with the reason.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pandas as pd

from flightdelay import layout
from flightdelay.errors import UnknownFileFormat
from flightdelay.storage import ObjectStore

ReadProgress = Callable[[int], None]  # bytes read so far from the file being imported


class _Counted(io.RawIOBase):
    """A byte stream that reports how much of it has been read (for a progress bar)."""

    def __init__(self, raw: IO[bytes], on_read: ReadProgress | None) -> None:
        self._raw = raw
        self._on_read = on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # typeshed takes any writable buffer
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self._on_read is not None:
            self._on_read(self.count)
        return n


@contextmanager
def open_download(
    path: Path, *, expected: str, on_read: ReadProgress | None = None
) -> Iterator[tuple[IO[bytes], int]]:
    """The CSV inside a downloaded file, and its size in bytes (uncompressed): a zip must hold one
    CSV (BTS's zips hold it and a readme), anything else is read as the CSV itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise UnknownFileFormat(
                    str(path), expected=expected, missing=[f"one .csv file inside (found {len(members)})"]
                )
            with archive.open(members[0]) as raw:
                yield io.BufferedReader(_Counted(raw, on_read), 1 << 20), members[0].file_size
    else:
        with path.open("rb") as raw:
            yield io.BufferedReader(_Counted(raw, on_read), 1 << 20), path.stat().st_size


def header(path: Path, *, expected: str, comment: str | None = None) -> list[str]:
    """The column names of the CSV inside a download (stripped: one BTS layout pads a name with a
    space), skipping lines that start with ``comment``; [] when there is no header line."""
    with open_download(path, expected=expected) as (stream, _):
        for _ in range(1000):
            line = stream.readline(1 << 20).decode("utf-8-sig", errors="replace")
            if not line:
                return []
            if comment is None or not line.startswith(comment):
                return [name.strip() for name in next(csv.reader([line]), [])]
    return []


def read_chunks(
    stream: IO[bytes], columns: list[str], *, chunk_rows: int, comment: str | None = None
) -> Iterator[pd.DataFrame]:
    """The named columns of a CSV as strings (empty cells as NaN), ``chunk_rows`` rows at a time,
    each chunk indexed by its line number in the file (the header is line 1)."""
    wanted = set(columns)
    reader = pd.read_csv(
        stream,
        usecols=lambda name: str(name).strip() in wanted,
        dtype=str,
        chunksize=chunk_rows,
        encoding="utf-8-sig",
        encoding_errors="replace",
        comment=comment,
        low_memory=True,
    )
    line = 2
    for chunk in reader:
        chunk.columns = [str(name).strip() for name in chunk.columns]
        chunk.index = pd.RangeIndex(line, line + len(chunk))
        line += len(chunk)
        yield chunk


def keep_rejected(
    store: ObjectStore, run_id: str, source: str, rejected: list[pd.DataFrame], *, weather: bool = False
) -> str | None:
    """Write the rows of one file left out (their fields, line and reason) as JSON lines; the key."""
    frames = [frame for frame in rejected if len(frame)]
    if not frames:
        return None
    table = pd.concat(frames).rename_axis("line").reset_index()
    key = layout.import_rejected(run_id, source, weather=weather)
    store.put(key, table.to_json(orient="records", lines=True).encode())
    return key


def first_reasons(reasons: pd.Series, counts: dict[str, int]) -> None:
    """Add the rows' reasons to ``counts`` by field (the part before ':')."""
    for field, n in reasons.str.split(":").str[0].value_counts().items():
        counts[str(field)] = counts.get(str(field), 0) + int(n)
