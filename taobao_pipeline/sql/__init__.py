"""The SQL of the computations, one ``.sql`` file per table (and ``criteria.sql``, the
Taobao village criteria as DuckDB macros; and the UI's ``PREVIEWS`` of an edition). Which
statement reads which staged tables and takes which parameters is registered in
``computations.STATEMENTS``."""

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent
#: queries of an edition's staging for the UI's metadata, not tables
PREVIEWS = ("top_villages", "province_preview", "cluster_preview")


@cache
def load(name: str) -> str:
    """The text of ``<name>.sql``."""
    return (FOLDER / f"{name}.sql").read_text(encoding="utf-8")
