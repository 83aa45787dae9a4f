"""Reading raw extract files: where they are, how they are encoded, what they hold.

Every value comes out as delivered: trimmed text (empty as null), or for Parquet
its native type where that fits the field, so the row rules in ``row_rules`` judge
exactly what was delivered. Problems with a whole file raise
``ExtractError`` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import errno
import gzip
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from taobao_pipeline.sources import Source

EXTENSIONS = (".parquet", ".csv.gz", ".csv")
SAMPLE_BYTES = 1 << 20  # of a CSV's first lines, for its length per row
ROW = "_row"  # 1-based data row number in its file
FILE = "_file"
EXTRA = "_extra_fields"  # a row's fields beyond the header's, if it has any (else null)
EXCERPT = 240  # characters of a problem at most: an error never echoes a file's content
_DUPLICATED = re.compile(r"_duplicated_[0-9]+$")


class ExtractError(Exception):
    """A file that cannot be used as a whole: the edition's load fails."""

    def __init__(self, path: Path | str, problem: str) -> None:
        problem = " ".join(problem.split())
        if len(problem) > EXCERPT:
            problem = problem[:EXCERPT] + " [...]"
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def editions_in(raw_dir: Path) -> list[int]:
    """Edition years that have a folder under ``raw_dir``."""
    if not raw_dir.is_dir():
        return []
    return sorted(
        int(p.name) for p in raw_dir.iterdir() if p.is_dir() and re.fullmatch(r"[0-9]{4}", p.name)
    )


def _extension(path: Path) -> str | None:
    return next((ext for ext in EXTENSIONS if path.name.endswith(ext)), None)


def _unusable(path: Path) -> str | None:
    """Why ``path`` cannot be opened as a file, or None when it can."""
    try:
        with open(path, "rb"):
            return None
    except FileNotFoundError:
        if not path.is_symlink():
            return "removed while the edition was being read"
        return f"a link to nowhere: its target {os.readlink(path)} does not exist"
    except IsADirectoryError:
        return "a folder, not a file"
    except PermissionError:
        return "cannot be opened: permission denied (give the pipeline's user read access)"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a loop of symbolic links: it leads back to itself"
        return f"cannot be opened: {e.strerror}"


def source_files(edition_dir: Path, source: Source) -> list[Path]:
    """The files of ``source`` in an edition folder: one, or for revenue one or more parts.

    Every entry named as the source's counts: one that cannot be opened (a broken or
    looping link, no permission) or has another extension fails the edition, named,
    instead of being skipped with its rows.
    """
    if not edition_dir.is_dir():
        raise ExtractError(edition_dir, "edition folder is missing")
    found = sorted(p for p in edition_dir.iterdir() if source.owns(p))
    for path in found:
        if _extension(path) is None:
            raise ExtractError(
                path, f"not a format of the contract ({', '.join(EXTENSIONS)}): convert or move it"
            )
        problem = _unusable(path)
        if problem:
            raise ExtractError(path, problem)
    if not found:
        raise ExtractError(edition_dir / f"{source.stem}.{{parquet,csv,csv.gz}}", "file is missing")
    if not source.parts and len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ExtractError(edition_dir / source.name, f"several files for one register: {names}")
    return found


def estimated_rows(path: Path) -> int:
    """About how many rows a file holds, without reading it: exact for Parquet (its
    metadata), for CSV its size over the length of its first lines (gzipped: over their
    compressed length). Unreadable: 0 (reading it will say why)."""
    try:
        if path.name.endswith(".parquet"):
            return pq.ParquetFile(path).metadata.num_rows
        with open(path, "rb") as raw:
            sample = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
            lines = sample.read(SAMPLE_BYTES).count(b"\n")
            consumed = raw.tell()  # of the file's bytes: compressed ones for a .gz
    except (OSError, EOFError, zlib.error, pa.ArrowException):
        return 0
    return round(lines * path.stat().st_size / max(consumed, 1))


def _open_bytes(path: Path) -> BinaryIO:
    """The file's bytes, gunzipped if it is a .gz."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _header_is_utf8(path: Path) -> bool:
    """Whether the header line and the rows after it, up to 64 KiB, are UTF-8: polars
    checks every value, but not the header; a file in GB18030 shows it in its first rows
    (read as it is, it cost one batch read and refused, 0.2 s for 2022's villages)."""
    with _open_bytes(path) as f:
        header = f.readline(1 << 20) + f.read(1 << 16)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(header)  # a cut character may wait
    except UnicodeDecodeError:
        return False
    return True


def _line_endings(path: Path) -> None:
    """Refuse a file whose lines end with a carriage return alone (classic Mac OS): read
    as one line, it would give a header of every value in the file."""
    with _open_bytes(path) as f:
        sample = f.read(1 << 16)
    if b"\r" in sample and b"\n" not in sample:
        raise ExtractError(
            path, "its lines end with a carriage return alone: save it with LF or CRLF endings"
        )


class _Reserved(Exception):
    """A header names a column the pipeline reserves."""


def _problem(error: Exception) -> str:
    """What polars (or the reading) found wrong, in a few words."""
    text = str(error)
    if text.startswith('could not parse `"'):
        return 'a quoted value is never closed (an opening " without its closing one)'
    return f"unreadable CSV: {text}"


def _as_text(column: pl.Series) -> pl.Series:
    """A Parquet column as the text a CSV export would hold."""
    if column.dtype == pl.String:
        return column
    if column.dtype == pl.Datetime:
        # judged row by row: a time of day makes only its own row not a date
        midnight = column.dt.truncate("1d") == column
        return pl.select(
            pl.when(midnight).then(column.dt.date().cast(pl.Utf8)).otherwise(column.cast(pl.Utf8))
        ).to_series()
    if column.dtype == pl.Float32:
        # the value the file holds, not the shortest text that reads back as that Float32:
        # 1234567.89 stored as Float32 is 1234567.875, and judged as such
        return column.cast(pl.Float64).cast(pl.Utf8)
    return column.cast(pl.Utf8)


# --- reading in batches: memory bounded by the budget, whatever the file's size ---------

TRANSCODE_CHUNK = 1 << 24


class Ragged(Exception):
    """A row of a CSV has more fields than its header: read the file again, all of it,
    with the ragged reader (so that every batch of the file has the ``EXTRA`` column)."""


class NotUtf8(Exception):
    """A CSV whose header is UTF-8 holds a value that is not: read the file again, all of
    it, transcoded (``open_extract(..., transcode=True)``)."""


def _plain_utf8(path: Path, work: Path) -> Path:
    """The CSV as a plain UTF-8 file polars can read in batches: the file itself, or a
    copy in ``work`` gunzipped and, unless it is UTF-8, transcoded from GB18030. Streamed
    in large chunks: memory stays flat whatever the size."""
    gz = path.name.endswith(".gz")
    _line_endings(path)
    if _header_is_utf8(path):
        decoder = codecs.getincrementaldecoder("utf-8")()
        copy = work / f"{path.name}.utf8.csv" if gz else None
        try:
            with _open_bytes(path) as raw, open(copy or os.devnull, "wb") as out:
                while chunk := raw.read(TRANSCODE_CHUNK):
                    decoder.decode(chunk)
                    if copy:
                        out.write(chunk)
                decoder.decode(b"", final=True)
            return copy or path
        except UnicodeDecodeError:
            pass
    decoder = codecs.getincrementaldecoder("gb18030")()
    copy = work / f"{path.name}.gb18030.csv"
    with _open_bytes(path) as raw, open(copy, "wb") as out:
        try:
            while chunk := raw.read(TRANSCODE_CHUNK):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError:
            raise ExtractError(path, "cannot be decoded as UTF-8 or GB18030") from None
    return copy


def _ragged_batches(path: Path, rows: int) -> tuple[list[str], Iterator[pl.DataFrame]]:
    """A CSV with rows longer than its header, read by Python's csv module ``rows`` at a
    time: the header, and the batches (text; a row's fields beyond the header joined by
    commas in ``EXTRA``, null where there are none)."""
    f = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed by the generator
    reader = csv.reader(f)
    header = next(reader)
    width = len(header)
    schema = dict.fromkeys([*header, EXTRA], pl.String)

    def batches() -> Iterator[pl.DataFrame]:
        with f:
            columns: list[list[str | None]] = [[] for _ in range(width + 1)]
            for row in reader:
                for i in range(width):
                    columns[i].append(row[i] if i < len(row) else None)
                columns[width].append(",".join(row[width:]) if len(row) > width else None)
                if len(columns[0]) == rows:
                    yield pl.DataFrame(dict(zip(schema, columns, strict=True)), schema=schema)
                    columns = [[] for _ in range(width + 1)]
            if columns[0]:
                yield pl.DataFrame(dict(zip(schema, columns, strict=True)), schema=schema)

    return header, batches()


def _checked_names(path: Path, columns: list[str], source: Source, parquet: bool) -> list[str]:
    """The header's names as the rules know them (trimmed, lower case), checked: no name
    twice, none reserved for the pipeline, every required column present."""
    names = [c.strip().lstrip("\ufeff").lower() for c in columns]
    ours = () if parquet else (EXTRA,)
    if len({_DUPLICATED.sub("", n) for n in names}) != len(names):
        raise ExtractError(path, f"repeated column names in header: {columns}")
    reserved = [n for n in names if n in (ROW, FILE, EXTRA) and n not in ours]
    if reserved:
        raise ExtractError(path, f"column name(s) reserved for the pipeline: {', '.join(reserved)}")
    missing = [c for c in source.required if c not in names]
    if missing:
        raise ExtractError(path, f"required column(s) absent: {', '.join(missing)}")
    return names


@dataclass
class Extract:
    """One extract file opened for reading in batches: its columns (as the rules name
    them) and their types in every batch. ``batches`` gives the rows ``rows`` at a time,
    numbered across the file (``ROW``) and named (``FILE``), text trimmed and empty text
    null. Column names are matched trimmed and case-insensitively; extra columns are kept
    (they belong to the original record) but are not judged."""

    path: Path
    names: list[str]
    types: dict[str, pl.DataType]
    _raw: Callable[[], Iterator[pl.DataFrame]]
    direct: bool = False  # a CSV read as it is (gzipped or not), its values' UTF-8 unchecked

    def batches(self) -> Iterator[pl.DataFrame]:
        offset = 0
        raw = self._raw()
        while True:
            try:
                frame = next(raw)
            except StopIteration:
                return
            except (pl.exceptions.PolarsError, OSError, EOFError, zlib.error, csv.Error) as e:
                if "more fields than defined" in str(e):
                    raise Ragged(str(self.path)) from None
                if self.direct and "invalid utf-8" in str(e).lower():
                    raise NotUtf8(str(self.path)) from None
                if self.path.name.endswith(".parquet"):
                    raise ExtractError(self.path, f"unreadable Parquet: {e}") from None
                raise ExtractError(self.path, _problem(e)) from None
            names = dict(zip(frame.columns, self.names, strict=True))
            frame = frame.rename(names)
            trimmed = [
                pl.col(c).str.strip_chars().replace("", None)
                if frame.schema[c] == pl.String
                else pl.col(c)
                for c in frame.columns
            ]
            yield (
                frame.select(trimmed)
                .with_row_index(ROW, offset=offset + 1)
                .with_columns(
                    pl.col(ROW).cast(pl.Int64), pl.lit(self.path.name, pl.Categorical).alias(FILE)
                )
            )
            offset += frame.height


def open_extract(
    path: Path, source: Source, work: Path, rows: int, ragged: bool = False, transcode: bool = False
) -> Extract:
    """``path`` opened to be read ``rows`` at a time (``ragged``: by the reader of rows
    longer than the header). A CSV whose header is UTF-8 is read as it is, gzipped or not
    (polars decompresses it as it streams, and refuses a value that is not UTF-8: its
    batches then raise ``NotUtf8``); otherwise, or with ``transcode`` or ``ragged``, it
    is first copied into ``work`` as plain UTF-8 (gunzipped, transcoded from GB18030).
    2022 at scale 1.0, shops.csv.gz (231 MB of CSV): read in batches in 1.25 s, against
    1.43 s for the copy and 1.34 s for reading it. Problems with the file as a whole raise
    ``ExtractError``."""
    if path.name.endswith(".parquet"):
        return _open_parquet(path, source, rows)
    direct = False
    try:
        if ragged or transcode:
            plain = _plain_utf8(path, work)
        else:
            _line_endings(path)
            direct = _header_is_utf8(path)
            plain = path if direct else _plain_utf8(path, work)
        if ragged:
            header, raw = _ragged_batches(plain, rows)
            columns = [*header, EXTRA]
            if EXTRA in (c.strip().lower() for c in header):
                raise _Reserved(EXTRA)
            batches: Callable[[], Iterator[pl.DataFrame]] = lambda: raw  # noqa: E731
        else:
            scan = pl.scan_csv(plain, infer_schema=False, encoding="utf8")
            columns = list(scan.collect_schema())
            if EXTRA in (c.strip().lower() for c in columns):
                raise _Reserved(EXTRA)

            def batches() -> Iterator[pl.DataFrame]:
                return scan.collect_batches(chunk_size=rows)
    except _Reserved as e:
        raise ExtractError(path, f"column name(s) reserved for the pipeline: {e}") from None
    except (pl.exceptions.PolarsError, OSError, EOFError, zlib.error, csv.Error) as e:
        raise ExtractError(path, _problem(e)) from None
    except StopIteration:  # the ragged reader's file has no header
        raise ExtractError(path, "unreadable CSV: empty CSV") from None
    names = _checked_names(path, columns, source, parquet=False)
    return Extract(path, names, dict.fromkeys(names, pl.String), batches, direct)


def _open_parquet(path: Path, source: Source, rows: int) -> Extract:
    try:
        scan = pl.scan_parquet(path)
        schema = scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as e:
        raise ExtractError(path, f"unreadable Parquet: {e}") from e

    def keeps_type(column: str) -> bool:
        typed = source.typed.get(column.strip().lower())
        return typed is not None and typed.native(schema[column])

    def convert(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            frame[c] if keeps_type(c) else _as_text(frame[c]) for c in frame.columns
        )

    try:
        empty = convert(pl.DataFrame(schema=schema))
    except pl.exceptions.PolarsError as e:  # e.g. an extra column of lists
        raise ExtractError(path, f"a column cannot be read as text: {e}") from e
    names = _checked_names(path, list(schema), source, parquet=True)

    def batches() -> Iterator[pl.DataFrame]:
        for frame in scan.collect_batches(chunk_size=rows):
            try:
                yield convert(frame)
            except pl.exceptions.PolarsError as e:
                raise ExtractError(path, f"a column cannot be read as text: {e}") from e

    types = dict(zip(names, empty.schema.values(), strict=True))
    return Extract(path, names, types, batches)
