"""The closing summary of ``taobao-pipeline run``: a few lines a person reads (within 100
columns), every figure read from the warehouse the run published."""

from __future__ import annotations

import os
import sys
import textwrap
import urllib.parse
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import yaml

from taobao_pipeline.budget import ENV, words
from taobao_pipeline.editions import describe_editions
from taobao_pipeline.sources import ORDER
from taobao_pipeline.warehouse import Warehouse

_UNITS = (
    (Decimal(10) ** 12, "trillion"),
    (Decimal(10) ** 9, "billion"),
    (Decimal(10) ** 6, "million"),
)


def clock(seconds: float) -> str:
    """Elapsed time as m:ss (h:mm:ss from an hour)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _three_figures(value: Decimal) -> Decimal:
    """``value`` to three significant figures, two decimals at most: 1.00, 12.3, 456."""
    for places in (2, 1, 0):
        rounded = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if abs(rounded) < 10 ** (3 - places) or places == 0:
            return rounded
    raise AssertionError("unreachable")


def rmb_words(amount: Decimal) -> str:
    """Money as a reader says it: ``RMB 1.00 trillion``, ``RMB 701 billion``,
    ``RMB 12.3 million``; below a million, exact (``RMB 9,999.50``). Decimal throughout."""
    for size, word in _UNITS:
        scaled = _three_figures(amount / size)
        if abs(scaled) >= 1:
            return f"RMB {scaled} {word}"
    return f"RMB {amount:,.2f}"


def _here(path: Path) -> Path:
    """``path`` from the current folder when it lies in it (shorter to read and type)."""
    try:
        return path.absolute().relative_to(Path.cwd())
    except ValueError:
        return path


def _command() -> str:
    """How to call this command again: ``.venv/bin/taobao-pipeline`` when it runs from a
    folder under the current one (./run.sh's .venv, not on the person's PATH)."""
    program = Path(sys.argv[0])
    if program.name == "taobao-pipeline" and program.is_absolute():
        here = _here(program)
        if not here.is_absolute():
            return str(here)
    return "taobao-pipeline"


def _count(n: int) -> str:
    return f"{n:,}"


def _figures(warehouse: Path, editions: list[int]) -> tuple[list[tuple], int, int]:
    """National figures of ``editions`` and their rows read and rejected, as their publish
    wrote them: from their staging, without opening the warehouse file (a foreign
    read-write session on it would refuse a reader, though the run published)."""
    national, read, rejected = [], 0, 0
    for edition in sorted(set(editions)):
        with Warehouse(warehouse).staging(edition) as stg:
            national += stg.conn.execute(
                "SELECT edition, taobao_villages, taobao_towns, revenue_rmb, active_shops "
                "FROM national_summary"
            ).fetchall()
            [(r, j)] = stg.conn.execute(
                "SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0) "
                "FROM load_audit"
            ).fetchall()
        read, rejected = read + int(r), rejected + int(j)
    return national, read, rejected


def _spills(warehouse: Path, editions: list[int]) -> dict[tuple[int, str], tuple[int, int]]:
    """(edition, source) -> (bytes DuckDB spilled while staging it, the budget then), as the
    ingest noted them (``spill.<source>``), where it spilled anything."""
    found = {}
    for edition in sorted(set(editions)):
        with Warehouse(warehouse).staging(edition) as stg:
            for source in ORDER:
                note = stg.note(f"spill.{source}") or {}
                if int(note.get("bytes", 0)):
                    found[(edition, source)] = (int(note["bytes"]), int(note["budget"]))
    return found


def spill_lines(spills: dict[tuple[int, str], tuple[int, int]]) -> list[str]:
    """What the summary says of a run that spilled to disk (nothing if it did not)."""
    if not spills:
        return []
    budget = max(b for _, b in spills.values())
    where = ", ".join(f"{e} {source} {words(n)}" for (e, source), (n, _) in spills.items())
    said = (
        f"Spilled to disk beyond the memory budget ({words(budget)}): {where}. "
        f"Slower, not wrong; a larger budget ({ENV}) keeps it in memory."
    )
    return textwrap.wrap(said, 100, subsequent_indent="  ", break_long_words=False)


def _setting(value: object) -> str:
    """A value of dagster.yaml: itself, or the environment variable it names."""
    if isinstance(value, dict) and "env" in value:
        return os.environ.get(str(value["env"]), f"${value['env']}")
    return str(value)


def run_history(dagster_home: str | None) -> tuple[str, bool]:
    """Where the run history is, in words, and whether it is in PostgreSQL: as the
    instance's dagster.yaml says (read as text: no Dagster loaded for a run that skips)."""
    if not dagster_home:
        return "not kept (no DAGSTER_HOME: the run's instance was a throwaway one)", False
    home = Path(dagster_home)
    try:
        config = yaml.safe_load((home / "dagster.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    storage = config.get("storage") or {}
    postgres = storage.get("postgres") if isinstance(storage, dict) else None
    if isinstance(postgres, dict):
        if postgres.get("postgres_url"):
            url = urllib.parse.urlsplit(_setting(postgres["postgres_url"]))
            where = f"database {url.path.lstrip('/')} on {url.hostname}:{url.port or 5432}"
        else:
            db = postgres.get("postgres_db") or {}
            where = (
                f"database {_setting(db.get('db_name', '?'))} on "
                f"{_setting(db.get('hostname', '?'))}:{_setting(db.get('port', 5432))}"
            )
        return f"PostgreSQL, {where} (the instance: {_here(home)}/dagster.yaml)", True
    return f"{_here(home)}", False


def _ui(dagster_home: str | None, postgres: bool) -> str | None:
    """How to open the UI on this run's history: ./ui.sh only when its history is the
    project's own .dagster_home (it opens that one, whatever DAGSTER_HOME says)."""
    if not dagster_home:
        return None
    home = Path(dagster_home).absolute()
    if Path("ui.sh").exists() and home == (Path.cwd() / ".dagster_home"):
        return "./ui.sh"
    if postgres:
        return "the UI of that instance (its webserver; docs/operations.md)"
    return f"DAGSTER_HOME={_here(home)} dg dev"


def run_summary(
    warehouse: Path,
    editions: list[int],
    ran: list[int],
    seconds: float,
    runs: int,
    dagster_home: str | None,
    publish_anyway: str | None = None,
) -> str:
    """What the run did (``ran``: the editions computed, the others were unchanged), the
    national figures of ``editions``, the latest in words, whether the quality gate was
    overridden (``publish_anyway``, the reason given), and where to go next."""
    national, rows_read, rows_rejected = _figures(warehouse, editions)
    spans = describe_editions(ran)
    lines = [
        f"Ran edition{'s' if len(ran) > 1 else ''} {spans} in {clock(seconds)} "
        f"({runs} run{'s' if runs > 1 else ''} of designation_job)."
        if ran
        else "Nothing to run: every edition is unchanged since it was published.",
        "",
        "National summary:",
        f"{'edition':>7}  {'Taobao villages':>15}  {'Taobao towns':>12}  "
        f"{'their revenue':<18}  {'active shops':>12}",
    ]
    for edition, villages, towns, revenue, shops in national:
        lines.append(
            f"{edition:>7}  {_count(villages):>15}  {_count(towns):>12}  "
            f"{rmb_words(revenue):<18}  {_count(shops):>12}"
        )
    share = f" ({rows_rejected / rows_read:.2%})" if rows_read else ""
    lines += [
        "",
        f"Rows read: {_count(rows_read)}; rejected: {_count(rows_rejected)}{share}, each with "
        "its reason in rejected_rows.",
    ]
    lines += spill_lines(_spills(warehouse, ran))
    if national:
        edition, villages, towns, revenue, _ = national[-1]
        lines.append(
            f"Latest edition, {edition}: {_count(villages)} Taobao villages in "
            f"{_count(towns)} Taobao towns, revenue {rmb_words(revenue)}."
        )
    if publish_anyway and ran:
        over = _overridden(warehouse, ran)
        which = f"edition{'s' if len(over) > 1 else ''} {describe_editions(over)}" if over else ""
        said = f'--publish-anyway "{publish_anyway}": ' + (
            f"{which} published over a failed quality gate; the reason and the checks "
            "it overrode are in edition_provenance.note."
            if over
            else "no edition needed it (none failed the quality gate)."
        )
        lines += textwrap.wrap(said, 100, subsequent_indent="  ", break_long_words=False)
    history, postgres = run_history(dagster_home)
    lines += [f"Warehouse: {_here(warehouse)} (open it read-only)", f"Run history: {history}"]
    me, ui = _command(), _ui(dagster_home, postgres)
    lines += [
        "",
        "Next:",
        f'  {me} query "SELECT * FROM national_summary ORDER BY edition"',
        f'  {me} query "SELECT reason, count(*) FROM rejected_rows GROUP BY 1"',
    ]
    if ui is not None:
        said = "the Dagster UI, this run under designation_job, lineage, checks"
        # within 100 columns: a long path puts the words on a line of their own
        one = f"  {ui}: {said}"
        lines += [one] if len(one) <= 100 else [f"  {ui}", f"      {said}"]
    return "\n".join(lines)


def _overridden(warehouse: Path, editions: list[int]) -> list[int]:
    """Which of ``editions`` were published over a failed quality gate, as their
    ``edition_provenance.note`` says (none when the warehouse cannot be read now)."""
    try:
        with Warehouse(warehouse).read_only() as conn:
            rows = conn.execute(
                "SELECT DISTINCT edition FROM edition_provenance WHERE list_contains($e, "
                "edition) AND note LIKE 'published over a failed quality gate%' ORDER BY 1",
                {"e": editions},
            ).fetchall()
    except (duckdb.Error, FileNotFoundError):
        return []
    return [int(e) for (e,) in rows]
