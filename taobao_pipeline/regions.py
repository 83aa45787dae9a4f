"""China's four economic regions, by province code (National Bureau of Statistics, 2011)."""

REGIONS: dict[str, tuple[str, ...]] = {
    "East": ("11", "12", "13", "31", "32", "33", "35", "37", "44", "46"),
    "Central": ("14", "34", "36", "41", "42", "43"),
    "West": ("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"),
    "Northeast": ("21", "22", "23"),
}


def region_sql(code: str) -> str:
    """A SQL expression giving the region of the province code expression ``code``."""
    cases = " ".join(
        f"WHEN {code} IN ({', '.join(repr(c) for c in codes)}) THEN '{region}'"
        for region, codes in REGIONS.items()
    )
    return f"CASE {cases} END"
