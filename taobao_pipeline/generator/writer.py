"""File formats per edition and streaming writers (CSV, CSV.gz, Parquet; one file or parts).

The formats vary on purpose so that every ingestion path of the contract is exercised:
GB18030 and UTF-8 (with and without a byte-order mark) CSV, gzip-compressed CSV, Parquet,
revenue in one file or in several parts, columns in varying order, an extra column, values
padded with spaces, GMV with the minimal number of decimals, and integer columns of varying
width in Parquet. The table :data:`FORMATS` is fixed by edition (independent of the seed).
"""

from __future__ import annotations

import gzip
import io
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from taobao_pipeline.sources import REVENUE, SHOPS, VILLAGES

from .rng import Stream

# the contract's columns, as the pipeline states them
VILLAGE_COLUMNS = VILLAGES.columns
SHOP_COLUMNS = SHOPS.columns
SALES_COLUMNS = REVENUE.columns


@dataclass(frozen=True)
class FileFormat:
    """How one file (or set of parts) of an edition is written."""

    ext: str  # csv, csv.gz, parquet
    encoding: str = "utf-8"  # utf-8, utf-8-sig, gb18030 (CSV only)
    order: int = 0  # column order variant (rotation), 0: contract order
    extra: str | None = None  # name of an extra column
    pad: bool = False  # pad a few values with spaces (CSV only)
    minimal_decimals: bool = False  # revenue CSV: 12.5 instead of 12.50
    parts: bool = True  # revenue only: several parts
    narrow_ints: bool = False  # Parquet: int32 instead of int64

    @property
    def is_csv(self) -> bool:
        """CSV or CSV.gz."""
        return self.ext.startswith("csv")


@dataclass(frozen=True)
class EditionFormats:
    """Formats of the three sources of an edition."""

    villages: FileFormat
    shops: FileFormat
    revenue: FileFormat


_C, _G, _P = "csv", "csv.gz", "parquet"
FORMATS: dict[int, EditionFormats] = {
    2009: EditionFormats(
        FileFormat(_C, "gb18030", 0, None, True),
        FileFormat(_C, "utf-8", 1),
        FileFormat(_C, "utf-8", 0, None, True, parts=False),
    ),
    2010: EditionFormats(
        FileFormat(_C, "utf-8-sig", 2, "remark"),
        FileFormat(_G, "utf-8", 0, "seller_type"),
        FileFormat(_P, order=1),
    ),
    2011: EditionFormats(
        FileFormat(_P, order=1, narrow_ints=True),
        FileFormat(_G, "utf-8-sig", 2, None, True),
        FileFormat(_G, "utf-8", 2, "currency", True),
    ),
    2012: EditionFormats(
        FileFormat(_G, "gb18030", 3, None, True),
        FileFormat(_P, order=3),
        FileFormat(_P, order=2, extra="currency", narrow_ints=True),
    ),
    2013: EditionFormats(
        FileFormat(_C, "gb18030", 1, "statistics_year"),
        FileFormat(_C, "gb18030", 0, None, True),
        FileFormat(_C, "utf-8", 3, None, True, minimal_decimals=True),
    ),
    2014: EditionFormats(
        FileFormat(_C, "gb18030", 0, None, True),
        FileFormat(_G, "utf-8", 1, "seller_type"),
        FileFormat(_P, order=0),
    ),
    2015: EditionFormats(
        FileFormat(_C, "utf-8-sig", 2, None, True),
        FileFormat(_G, "utf-8-sig", 3),
        FileFormat(_P, order=3, extra="currency"),
    ),
    2016: EditionFormats(
        FileFormat(_C, "gb18030", 3, "remark"),
        FileFormat(_P, order=2, extra="seller_type"),
        FileFormat(_G, "utf-8", 1, None, True, minimal_decimals=True),
    ),
    2017: EditionFormats(
        FileFormat(_P, order=0, extra="statistics_year"),
        FileFormat(_G, "utf-8", 0, None, True),
        FileFormat(_P, order=1, narrow_ints=True),
    ),
    2018: EditionFormats(
        FileFormat(_C, "gb18030", 1, None, True),
        FileFormat(_G, "utf-8-sig", 1, "seller_type"),
        FileFormat(_P, order=2),
    ),
    2019: EditionFormats(
        FileFormat(_G, "gb18030", 2, "remark", True),
        FileFormat(_G, "utf-8", 2, None, True),
        FileFormat(_P, order=0, extra="currency"),
    ),
    2020: EditionFormats(
        FileFormat(_C, "gb18030", 0, None, True),
        FileFormat(_P, order=3, extra="seller_type"),
        FileFormat(_P, order=3),
    ),
    2021: EditionFormats(
        FileFormat(_C, "utf-8-sig", 3, "statistics_year", True),
        FileFormat(_P, order=1),
        FileFormat(_P, order=0, extra="currency"),
    ),
    2022: EditionFormats(
        FileFormat(_C, "gb18030", 1, None, True),
        FileFormat(_G, "utf-8-sig", 0, None, True),
        FileFormat(_P, order=1, narrow_ints=True),
    ),
}


def formats_for(edition: int) -> EditionFormats:
    """Formats of an edition (editions outside the table reuse one by their parity)."""
    if edition in FORMATS:
        return FORMATS[edition]
    return FORMATS[2020 if edition % 2 == 0 else 2019]


def column_order(columns: tuple[str, ...], fmt: FileFormat) -> list[str]:
    """The file's column order: a rotation (and for odd variants a reversal) plus extra."""
    cols = list(columns)
    k = fmt.order % len(cols)
    cols = cols[k:] + cols[:k]
    if fmt.order % 2 == 1:
        cols.reverse()
    if fmt.extra:
        cols.insert(min(2, len(cols)), fmt.extra)
    return cols


def _extra_values(name: str, n: int, edition: int, stream: Stream) -> pl.Series:
    if name == "statistics_year":
        return pl.Series(name, [edition] * n, dtype=pl.Int64)
    if name == "currency":
        return pl.Series(name, ["CNY"] * n, dtype=pl.String)
    if name == "seller_type":
        u = stream.uniform(n)
        return pl.select(
            pl.when(pl.lit(u) < 0.82).then(pl.lit("个人")).otherwise(pl.lit("企业")).alias(name)
        ).to_series()
    return pl.Series(name, [""] * n, dtype=pl.String)


def gmv_text(cents: pl.Expr, minimal: bool) -> pl.Expr:
    """GMV text with two decimals, or with the fewest decimals that keep it exact."""
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (cents.abs() // 100).cast(pl.String)
    frac = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    if not minimal:
        return pl.concat_str(sign, whole, pl.lit("."), frac)
    short = (
        pl.when(frac == "00")
        .then(pl.lit(""))
        .when(frac.str.ends_with("0"))
        .then(pl.concat_str(pl.lit("."), frac.str.slice(0, 1)))
        .otherwise(pl.concat_str(pl.lit("."), frac))
    )
    return pl.concat_str(sign, whole, short)


def gmv_decimal(cents: pl.Series) -> pa.Array:
    """Cents as an Arrow decimal128(18, 2) array (exact)."""
    arr = cents.cast(pl.Int64).to_arrow()
    return arr.cast(pa.decimal128(19, 0)).view(pa.decimal128(18, 2))


@dataclass
class WrittenFile:
    """A file written for an edition."""

    path: Path
    rows: int = 0


@dataclass
class SourceWriter:
    """Streams one source (villages, shops or revenue) of an edition to its file(s)."""

    folder: Path
    source: str  # villages, shops, revenue
    fmt: FileFormat
    edition: int
    stream: Stream
    files: list[WrittenFile] = field(default_factory=list)
    _handle: BinaryIO | None = None
    _raw: BinaryIO | None = None
    _pq: pq.ParquetWriter | None = None
    _header_done: bool = False
    _pool: ThreadPoolExecutor | None = None
    _pending: Future[int] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The contract's columns of this source."""
        return {"villages": VILLAGE_COLUMNS, "shops": SHOP_COLUMNS, "revenue": SALES_COLUMNS}[
            self.source
        ]

    def write(self, typed: pl.DataFrame, text: pl.DataFrame | None = None) -> None:
        """Write rows: ``typed`` in the typed schema, ``text`` all-string (CSV only).

        CSV: most rows are written straight from their types; about 1% (when the format
        pads) and the text-only rows go out as strings after them.
        """
        frame = self._prepare(typed)
        if not self.fmt.is_csv:
            self._write_parquet(frame)
            return
        if self.source == "revenue":
            cents = frame.get_column("gmv_rmb")
            gmv = (
                frame.select(gmv_text(pl.col("gmv_rmb"), True)).to_series()
                if self.fmt.minimal_decimals
                else pl.Series("gmv_rmb", gmv_decimal(cents))
            )
            frame = frame.with_columns(gmv.alias("gmv_rmb"))
        extra_text: list[pl.DataFrame] = []
        if self.fmt.pad and frame.height:
            mask = pl.Series(self.stream.uniform(frame.height) < 0.01)
            extra_text.append(self._pad(self._to_text(frame.filter(mask))))
            frame = frame.filter(~mask)
        if text is not None and text.height:
            t = text
            if self.fmt.extra:
                t = t.with_columns(
                    _extra_values(self.fmt.extra, t.height, self.edition, self.stream).cast(
                        pl.String
                    )
                )
            extra_text.append(t.select(frame.columns))
        self._write_csv(frame)
        for t in extra_text:
            if t.height:
                self._write_csv(t)

    def new_part(self) -> None:
        """Close the current part so the next write starts a new one (revenue parts)."""
        self._close_current()

    def close(self) -> list[WrittenFile]:
        """Finish the source and return its files."""
        self._close_current()
        return self.files

    # --- internals ------------------------------------------------------------------------
    def _prepare(self, typed: pl.DataFrame) -> pl.DataFrame:
        frame = typed
        if self.source == "revenue" and "cents" in frame.columns:
            frame = frame.rename({"cents": "gmv_rmb"})
        if self.fmt.extra:
            frame = frame.with_columns(
                _extra_values(self.fmt.extra, frame.height, self.edition, self.stream)
            )
        return frame.select(column_order(self.columns, self.fmt))

    def _to_text(self, frame: pl.DataFrame) -> pl.DataFrame:
        exprs = []
        for name, dtype in frame.schema.items():
            col = pl.col(name)
            if dtype == pl.Date:
                exprs.append(col.dt.strftime("%Y-%m-%d").fill_null("").alias(name))
            else:
                exprs.append(col.cast(pl.String).fill_null("").alias(name))
        return frame.select(exprs)

    def _pad(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Spaces around the values of a few columns (all rows given are padded)."""
        targets = {
            "villages": ("village_code", "households", "urban_rural_code", "village_name"),
            "shops": ("shop_id", "village_code", "platform", "opened_on"),
            "revenue": ("shop_id", "month", "gmv_rmb", "orders"),
        }[self.source]
        return frame.with_columns(
            pl.concat_str(pl.lit(" "), pl.col(name), pl.lit("  ")).alias(name) for name in targets
        )

    def _path(self) -> Path:
        ext = self.fmt.ext
        if self.source != "revenue" or not self.fmt.parts:
            return self.folder / f"{self.source}.{ext}"
        return self.folder / f"revenue-part-{len(self.files) + 1:03d}.{ext}"

    def _open_csv(self) -> None:
        path = self._path()
        self.files.append(WrittenFile(path))
        raw = path.open("wb")
        self._raw = raw
        if self.fmt.ext == "csv.gz":
            self._handle = gzip.GzipFile(  # type: ignore[assignment]
                filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0
            )
            self._pool = ThreadPoolExecutor(max_workers=1)
        else:
            self._handle = raw
        if self.fmt.encoding == "utf-8-sig":
            self._handle.write(b"\xef\xbb\xbf")
        self._header_done = False

    def _write_csv(self, frame: pl.DataFrame) -> None:
        if self._handle is None:
            self._open_csv()
        assert self._handle is not None
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=not self._header_done)
        self._header_done = True
        data = buf.getvalue()
        if self.fmt.encoding == "gb18030":
            data = data.decode("utf-8").encode("gb18030")
        if self._pool is not None:
            # Compress in a background thread (zlib releases the GIL) while the next chunk
            # is computed; at most one block waits, so memory stays bounded.
            if self._pending is not None:
                self._pending.result()
            self._pending = self._pool.submit(self._handle.write, data)
        else:
            self._handle.write(data)
        self.files[-1].rows += frame.height

    def _arrow(self, frame: pl.DataFrame) -> pa.Table:
        arrays = []
        names = []
        int_type = pa.int32() if self.fmt.narrow_ints else pa.int64()
        for name, dtype in frame.schema.items():
            s = frame.get_column(name)
            if name == "gmv_rmb":
                arr = gmv_decimal(s)
            elif dtype in (pl.Int64, pl.Int32):
                arr = s.to_arrow().cast(int_type)
            else:
                arr = s.to_arrow()
                if pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
                    arr = arr.cast(pa.string())
            arrays.append(arr)
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names)

    def _write_parquet(self, frame: pl.DataFrame) -> None:
        table = self._arrow(frame)
        if self._pq is None:
            path = self._path()
            self.files.append(WrittenFile(path))
            self._pq = pq.ParquetWriter(
                path,
                table.schema,
                compression="zstd",
                compression_level=1,
                use_dictionary=[
                    c
                    for c in (
                        "month",
                        "platform",
                        "urban_rural_code",
                        "province_name",
                        "prefecture_name",
                        "county_name",
                        "main_category",
                        "currency",
                        "seller_type",
                    )
                    if c in table.schema.names
                ],
            )
        self._pq.write_table(table, row_group_size=1_000_000)
        self.files[-1].rows += frame.height

    def _close_current(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._handle is not None:
            if self._handle is not self._raw:
                self._handle.close()
            if self._raw is not None:
                self._raw.close()
            self._handle = None
            self._raw = None
