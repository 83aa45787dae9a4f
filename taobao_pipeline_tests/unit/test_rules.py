"""The designation rules, stated once (``Rules``): their values as configured, in words, in
the resource and on the command line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from taobao_pipeline.cli import build_parser
from taobao_pipeline.defs.resources import RulesResource
from taobao_pipeline.rules import FIELDS, Rules, defaults_table, percent, rmb
from taobao_pipeline.tables import TABLES


def test_configured_values_become_exact_rules() -> None:
    rules = Rules.from_values(
        {
            "min_revenue_rmb": "5000000.00",
            "min_active_shops": "80",
            "edition_overrides": {
                "2021": {"cutoff_month": "5", "allowed_urban_rural_codes": "210, 220"}
            },
        }
    )
    assert rules.min_revenue_rmb == Decimal("5000000.00")
    assert rules.min_active_shops == 80
    assert rules.min_shop_share == Decimal("0.10")  # not given: the contract's
    in_2021 = rules.for_edition(2021)
    assert (in_2021.cutoff_month, in_2021.allowed_urban_rural_codes) == (5, ("210", "220"))
    assert rules.for_edition(2020).cutoff_month == 6


def test_a_misspelt_rule_or_a_float_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rules: min_revenue"):
        Rules.from_values({"min_revenue": "1"})
    with pytest.raises(ValueError, match="as text"):
        Rules.from_values({"min_shop_share": 0.1})
    with pytest.raises(ValueError, match="22 not among"):
        Rules.from_values({"allowed_urban_rural_codes": "22"})


def test_the_resource_holds_the_contracts_rules_and_any_variant_of_them() -> None:
    assert RulesResource().rules() == Rules()
    variant = Rules.from_values(
        {"min_revenue_rmb": "5000000.00", "edition_overrides": {"2021": {"cutoff_month": 5}}}
    )
    configured = RulesResource.of(variant).rules()
    for edition in (2020, 2021):
        assert configured.for_edition(edition) == variant.for_edition(edition)


def test_thresholds_in_words_as_the_descriptions_give_them() -> None:
    assert rmb(Decimal("10000000.00")) == "RMB 10 million"
    assert rmb(Decimal("12345.60")) == "RMB 12,345.60"
    assert percent(Decimal("0.10")) == "10%"
    meets = TABLES["village_metrics"].column("meets_shops").description
    assert meets == "At least 100 active shops or 10% of households (configurable)"


def test_the_run_command_reads_a_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('min_revenue_rmb = "5000000.00"\n[edition_overrides.2021]\ncutoff_month = 5\n')
    args = build_parser().parse_args(["run", "--rules", str(rules)])
    assert args.rules.min_revenue_rmb == Decimal("5000000.00")
    assert args.rules.for_edition(2021).cutoff_month == 5


def test_a_bad_rules_file_is_named_with_its_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("min_revenue_rmb = 5000000.5\n")
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["run", "--rules", str(rules)])
    assert stopped.value.code == 2
    assert f"{rules}: min_revenue_rmb: give 5000000.5 as text" in capsys.readouterr().err


def test_every_rule_is_a_field_of_the_resource_with_its_default_in_the_contract_doc() -> None:
    assert set(RulesResource.model_fields) == {*FIELDS, "edition_overrides"}
    doc = (Path(__file__).parents[2] / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert defaults_table() in doc
