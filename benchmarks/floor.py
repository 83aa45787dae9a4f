"""The floor: the designations from one hand-written DuckDB SQL script (``floor.sql``).

Standalone on purpose (no import of ``taobao_pipeline``): it shows what the computation
costs with nothing around it. Python only lists each source's files per format and hands
DuckDB the CSV files it cannot decode itself (GB18030: DuckDB reads only UTF-8, UTF-16 and
Latin-1 without its ``encodings`` extension, which cannot be downloaded here); those are
read by polars with lossy UTF-8 decoding, which keeps every ASCII byte (codes, numbers,
dates, separators) intact and garbles only Chinese names, which the floor does not use.

    python -m benchmarks.floor RAW_DIR OUT.csv [--editions 2009-2022]

writes the designated ``(edition, village_code)`` pairs to ``OUT.csv``.
"""

from __future__ import annotations

import argparse
import codecs
import gzip
from pathlib import Path

import duckdb
import polars as pl

from benchmarks import parse_editions

SQL = Path(__file__).with_name("floor.sql")
COLUMNS = {
    "villages": ["village_code", "households"],
    "shops": ["shop_id", "village_code", "opened_on", "closed_on"],
    "revenue": ["shop_id", "month", "gmv_rmb", "orders"],
}
SNIFF_BYTES = 1 << 20


def looks_utf8(path: Path) -> bool:
    """Whether the file's first MiB decodes as UTF-8 (a GB18030 file fails on its names)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def source_files(raw: Path, editions: list[int], source: str) -> dict[str, list[Path]]:
    """The source's files of the editions by how they are read: csv, lossy or parquet."""
    pattern = "revenue*" if source == "revenue" else f"{source}.*"
    found: dict[str, list[Path]] = {"csv": [], "lossy": [], "parquet": []}
    for edition in editions:
        for path in sorted((raw / str(edition)).glob(pattern)):
            if path.name.endswith(".parquet"):
                found["parquet"].append(path)
            elif path.name.endswith((".csv", ".csv.gz")):
                found["csv" if looks_utf8(path) else "lossy"].append(path)
    return found


def read_lossy(paths: list[Path], columns: list[str]) -> pl.DataFrame:
    """Non-UTF-8 CSV files as text, their needed columns only, with their file name."""
    schema = dict.fromkeys([*columns, "filename"], pl.String)
    frames = [pl.DataFrame(schema=schema)]
    for path in paths:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
        frame = frame.rename({c: c.strip().lower() for c in frame.columns})
        frames.append(frame.select(columns).with_columns(filename=pl.lit(str(path))))
    return pl.concat(frames)


def run(raw: Path, editions: list[int], out: Path) -> int:
    """Run ``floor.sql`` over the editions' files; write the designations; return their count."""
    conn = duckdb.connect()
    lossy = {}
    for source, columns in COLUMNS.items():
        files = source_files(raw, editions, source)
        for kind in ("csv", "parquet"):
            conn.execute(
                f"SET VARIABLE {source}_{kind} = $files", {"files": [str(p) for p in files[kind]]}
            )
        lossy[source] = read_lossy(files["lossy"], columns)
        conn.register(f"{source}_lossy", lossy[source])
    conn.execute(SQL.read_text())
    conn.execute(f"COPY (FROM designated ORDER BY ALL) TO '{out}' (HEADER)")
    count = conn.execute("SELECT count(*) FROM designated").fetchall()[0][0]
    conn.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--editions", type=parse_editions, default=list(range(2009, 2023)))
    args = parser.parse_args()
    print(f"floor: {run(args.raw, args.editions, args.out)} designated villages")


if __name__ == "__main__":
    main()
