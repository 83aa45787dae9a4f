"""The data release: every published table as Parquet and as CSV, the data dictionary and
a manifest a person can cite.

- ``parquet/<table>.parquet``: the warehouse's types (money DECIMAL(18,2)); each column's
  description in its field metadata (``description``) and all of them, with the table's,
  in the file's key-value metadata (for readers that do not read Arrow field metadata).
- ``csv/<table>.csv``: UTF-8 with a BOM (Excel then reads Chinese names), a header row,
  money as exact decimal text, empty fields for NULL.
- ``data-dictionary.csv`` and ``data-dictionary.md``: table, column, type, description.
- ``manifest.json``: row counts, SHA-256 and size of every file, editions, the rules in
  force, the code version and when the release was made.

Descriptions come from the warehouse's comments (``COMMENT ON``) and, for a file written
by an older version without them, from the tables' declarations (``tables.TABLES``).
Rows are written ordered by all their columns, so one warehouse always gives the same files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from taobao_pipeline.tables import TABLES
from taobao_pipeline.version import code_version
from taobao_pipeline.warehouse import Warehouse

BOM = b"\xef\xbb\xbf"
BATCH_ROWS = 200_000  # memory stays a batch, whatever the table's size


class ReleaseError(Exception):
    """The release cannot be written (the message says why)."""


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclasses.dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: list[Column]


def _declared(table: str, column: str | None = None) -> str:
    """The declared description of a table or one of its columns ("" if undeclared)."""
    declared = TABLES.get(table)
    if declared is None:
        return ""
    if column is None:
        return declared.comment
    return declared.column(column).description if column in declared.names else ""


def published_tables(conn: duckdb.DuckDBPyConnection) -> list[Table]:
    """Every table of the warehouse, with its columns and their descriptions."""
    tables = conn.execute(
        "SELECT table_name, comment FROM duckdb_tables() "
        "WHERE schema_name = 'main' AND NOT temporary ORDER BY table_name"
    ).fetchall()
    columns: dict[str, list[Column]] = {}
    for table, name, sql_type, comment in conn.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name, column_index"
    ).fetchall():
        columns.setdefault(table, []).append(
            Column(name, sql_type, comment or _declared(table, name))
        )
    return [Table(name, comment or _declared(name), columns[name]) for name, comment in tables]


def _schema(table: Table, schema: pa.Schema) -> pa.Schema:
    """The Arrow schema with the descriptions: per field, and all in the file's metadata."""
    described = {c.name: c.description for c in table.columns}
    fields = [
        f.with_metadata({"description": described[f.name]}) if described[f.name] else f
        for f in schema
    ]
    return pa.schema(
        fields,
        metadata={
            "table": table.name,
            "description": table.description,
            "column_descriptions": json.dumps(described, ensure_ascii=False),
            "created_by": f"taobao-pipeline {code_version()['text']}",
        },
    )


def _write_table(conn: duckdb.DuckDBPyConnection, table: Table, root: Path) -> int:
    """``table`` as Parquet and CSV under ``root``, in one pass; returns its row count."""
    rows = 0
    reader = conn.sql(f'SELECT * FROM "{table.name}" ORDER BY ALL').to_arrow_reader(BATCH_ROWS)
    schema = _schema(table, reader.schema)
    with (
        pq.ParquetWriter(
            root / "parquet" / f"{table.name}.parquet", schema, compression="zstd"
        ) as parquet,
        open(root / "csv" / f"{table.name}.csv", "wb") as csv_file,
    ):
        csv_file.write(BOM)
        with pa_csv.CSVWriter(csv_file, reader.schema) as csv:
            for batch in reader:
                parquet.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
                csv.write_batch(batch)
                rows += batch.num_rows
    return rows


def _dictionary(tables: list[Table], root: Path) -> None:
    """data-dictionary.csv (UTF-8 with BOM) and data-dictionary.md."""
    rows = [
        {
            "table": t.name,
            "table_description": t.description,
            "column": c.name,
            "type": c.type,
            "description": c.description,
        }
        for t in tables
        for c in t.columns
    ]
    with open(root / "data-dictionary.csv", "wb") as f:
        f.write(BOM)
        pa_csv.write_csv(pa.Table.from_pylist(rows), f)
    lines = ["# Data dictionary", ""]
    for t in tables:
        lines += [f"## {t.name}", ""] + ([t.description, ""] if t.description else [])
        lines += ["| column | type | description |", "| --- | --- | --- |"]
        lines += [f"| {c.name} | {c.type} | {c.description.replace('|', '/')} |" for c in t.columns]
        lines.append("")
    (root / "data-dictionary.md").write_text("\n".join(lines), encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


RULES_IN_FORCE = """
SELECT edition, arg_max(rules, published_at) FROM edition_provenance
WHERE file <> '(withdrawn)' GROUP BY edition ORDER BY edition
"""


def rules_in_force(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The designation rules each published edition was computed under, as recorded."""
    return {
        "basis": "edition_provenance.rules: the rules in force when each edition was published",
        "editions": {str(e): json.loads(r) for e, r in conn.execute(RULES_IN_FORCE).fetchall()},
    }


def _check_out(out: Path) -> None:
    """A release replaces an earlier release, never a folder of other files."""
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").exists():
        raise ReleaseError(f"{out} is not empty and holds no release: choose another --out")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} is a file: --out names a folder")


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished release ``tmp`` to ``out``, replacing an earlier release there."""
    _check_out(out)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)


def export_release(warehouse: Path | str, out: Path | str) -> dict[str, object]:
    """Write the release of ``warehouse`` to the folder ``out``; returns its manifest.

    The folder is built beside ``out`` and renamed into place: a failed export leaves an
    earlier release as it was.
    """
    warehouse, out = Path(warehouse), Path(out)
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "parquet").mkdir(parents=True)
    (tmp / "csv").mkdir()
    try:
        with Warehouse(warehouse).read_only() as conn:
            tables = published_tables(conn)
            counts = {t.name: _write_table(conn, t, tmp) for t in tables}
            rules = rules_in_force(conn)
            editions = [
                e
                for (e,) in conn.execute(
                    "SELECT edition FROM national_summary ORDER BY edition"
                ).fetchall()
            ]
        _dictionary(tables, tmp)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        manifest = {
            "title": "Taobao villages: the taobao-pipeline warehouse as Parquet and CSV",
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "code_version": {k: v for k, v in code_version().items() if k != "text"},
            "warehouse": str(warehouse),
            "editions": editions,
            "rules": rules,
            "tables": {
                t.name: {
                    "rows": counts[t.name],
                    "description": t.description,
                    "parquet": f"parquet/{t.name}.parquet",
                    "csv": f"csv/{t.name}.csv",
                    "columns": [dataclasses.asdict(c) for c in t.columns],
                }
                for t in tables
            },
            "files": [
                {
                    "path": p.relative_to(tmp).as_posix(),
                    "bytes": p.stat().st_size,
                    "sha256": _sha256(p),
                }
                for p in files
            ],
        }
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        _replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest
