"""The rules as the resource takes them from configuration (moved from integration/)."""

from __future__ import annotations

import pytest

from taobao_pipeline.defs.resources import RulesResource


def test_urban_rural_codes_configured_as_text_or_list() -> None:
    """An edition override's value is text: "210, 220" names two codes (taken as a
    sequence of characters, "220" was the codes 2, 2 and 0, and no village was rural)."""
    rules = RulesResource(
        allowed_urban_rural_codes=["220"],
        edition_overrides={"2020": {"allowed_urban_rural_codes": "210, 220"}},
    ).rules()
    assert rules.for_edition(2019).allowed_urban_rural_codes == ("220",)
    assert rules.for_edition(2020).allowed_urban_rural_codes == ("210", "220")
    bad = RulesResource(edition_overrides={"2020": {"allowed_urban_rural_codes": "22"}}).rules()
    with pytest.raises(ValueError, match="22 not among 111"):
        bad.for_edition(2020)
