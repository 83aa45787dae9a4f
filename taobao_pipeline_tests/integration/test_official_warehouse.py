"""Published lists in the pipeline: the Dagster asset, the CLI, the reconciliation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from taobao_pipeline.runner import RunFailed, run_editions
from taobao_pipeline_tests.raw_files import write_edition
from taobao_pipeline_tests.scenarios import TAOBAO_VILLAGES, boundary_edition
from taobao_pipeline_tests.warehouse_queries import read_table

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "official-lists"
LIST_CSV = (
    "省,市,县,镇,村,主营产品\n"
    "浙江,金华市,义乌市,镇A,村一,饰品\n"
    "浙江省,金华市,义乌市,镇A,村二,\n"
    "北京,北京市,朝阳区,镇B,村三,服装\n"
)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    e = boundary_edition(2020)
    folder = write_edition(tmp_path / "raw", 2020, e.villages, e.shops, e.revenue)
    (folder / "official").mkdir()
    (folder / "official" / "list-2020.csv").write_text(LIST_CSV, encoding="gb18030")
    return tmp_path / "raw"


def test_run_imports_the_edition_list_and_reconciles(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [2020])
    rows = read_table(
        warehouse,
        "SELECT province_code, province, listed_villages, computed_villages, difference "
        "FROM official_reconciliation WHERE edition = 2020 ORDER BY province_code",
    )
    zhejiang = len(TAOBAO_VILLAGES) - 1  # one is in Sichuan
    assert rows == [
        ("11", "北京市", 1, 0, -1),
        ("33", "浙江省", 2, zhejiang, zhejiang - 2),
        ("51", "四川省", 0, 1, 1),
    ]
    # a republish of the edition keeps the list and recomputes the reconciliation
    run_editions(raw, warehouse, [2020])
    assert read_table(warehouse, "SELECT count(*) FROM official_villages") == [(3,)]


def test_two_lists_for_one_edition_fail_clearly(raw: Path, tmp_path: Path) -> None:
    (raw / "2020" / "official" / "other.csv").write_text(LIST_CSV)
    with pytest.raises(RunFailed, match="several published lists, keep one"):
        run_editions(raw, tmp_path / "w.duckdb", [2020])


def test_cli_import_list_of_the_real_2016_list(tmp_path: Path) -> None:
    if not SHARED.is_dir():
        # ../shared is outside the repository: CI's clean clone has none and passes without
        # it, so this skips under CI=true too (not ``prerequisites.require``)
        pytest.skip("../shared/data/official-lists is not present")
    warehouse = tmp_path / "w.duckdb"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "taobao_pipeline.cli",
            "import-list",
            str(SHARED / "taobaovillage_list_2016.xlsx"),
            "--edition",
            "2016",
            "--warehouse",
            str(warehouse),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "1311 villages, 135 towns" in out.stdout
    assert read_table(
        warehouse, "SELECT listed_villages FROM official_reconciliation WHERE province = '浙江省'"
    ) == [(506,)]


def test_cli_import_list_unknown_layout(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "taobao_pipeline.cli",
            "import-list",
            str(bad),
            "--edition",
            "2016",
            "--warehouse",
            str(tmp_path / "w.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "Missing required columns: province" in out.stderr
