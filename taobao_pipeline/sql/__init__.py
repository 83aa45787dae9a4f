"""The SQL of the computations, one ``.sql`` file per table (and ``criteria.sql``, the
Taobao village criteria as DuckDB macros). Which statement reads which staged tables and
takes which parameters is registered in ``computations.STATEMENTS``."""

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent


@cache
def load(name: str) -> str:
    """The text of ``<name>.sql``."""
    return (FOLDER / f"{name}.sql").read_text(encoding="utf-8")
