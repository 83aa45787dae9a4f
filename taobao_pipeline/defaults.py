"""Where the data lives unless told otherwise (paths relative to the project folder)."""

DEFAULT_RAW_DIR = "data/raw"
DEFAULT_WAREHOUSE = "data/warehouse/taobao.duckdb"
DEFAULT_RELEASE = "data/release"
