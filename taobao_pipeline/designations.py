"""The contract's computations for one edition, in DuckDB SQL over its staged tables.

Each statement reads like the rule it implements; thresholds arrive as parameters
(``rules.Rules``) so that they can differ by edition. Money stays DECIMAL throughout.
"""

from __future__ import annotations

from taobao_pipeline.fingerprints import computed_under
from taobao_pipeline.regions import region_sql
from taobao_pipeline.rules import Rules, window
from taobao_pipeline.staging import Staging

# the last months of the window, with their last day
LAST_MONTHS = """
last_months AS (
    SELECT month, last_day(strptime(month || '-01', '%Y-%m-%d')::DATE) AS month_end
    FROM unnest($last_months::VARCHAR[]) AS t(month)
)"""

# Staged by the revenue ingest over its accepted rows: what the metrics need of them.
# A month counts for a shop's recent orders when the shop was open by its last day, that
# is when it opened in that month or before: only shops that opened during the last
# months (a few) need their opening month looked up.
SHOP_SALES = """
WITH recent_openers AS (
    SELECT shop_id, strftime(opened_on, '%Y-%m') AS opened_month
    FROM shops WHERE strftime(opened_on, '%Y-%m') >= $last_months[1]
)
SELECT $edition AS edition, r.shop_id,
       count(*) AS sales_rows,
       -- every accepted revenue row counts, active shop or not, open or closed
       sum(r.gmv_rmb) AS revenue_rmb,
       -- orders in the last months, counting only the months the shop was open
       coalesce(sum(r.orders) FILTER (
           r.month >= $last_months[1] AND r.month >= coalesce(o.opened_month, '')
       ), 0) AS recent_orders
FROM accepted_revenue r LEFT JOIN recent_openers o USING (shop_id)
GROUP BY r.shop_id
"""

VILLAGE_METRICS = f"""
WITH {LAST_MONTHS},
shop_months AS (  -- how many of the last months the shop was open (by their last day)
    SELECT s.*,
           (SELECT count(*) FROM last_months m WHERE s.opened_on <= m.month_end) AS months_open
    FROM shops s
),
shop_status AS (
    SELECT s.shop_id, s.village_code, coalesce(ss.revenue_rmb, 0) AS revenue_rmb,
           s.opened_on <= $cutoff_date::DATE - $min_days_open::INTEGER
           AND (s.closed_on IS NULL OR s.closed_on > $cutoff_date::DATE)
           AND s.months_open > 0
           AND coalesce(ss.recent_orders, 0) >= $min_avg_orders::BIGINT * s.months_open
               AS is_active
    FROM shop_months s
    LEFT JOIN shop_sales ss USING (shop_id)
),
village_shops AS (
    SELECT village_code,
           count(*) AS shops,
           count(*) FILTER (is_active) AS active_shops,
           sum(revenue_rmb) AS revenue_rmb
    FROM shop_status GROUP BY village_code
),
metrics AS (
    SELECT v.*,
           coalesce(vs.shops, 0) AS shops,
           coalesce(vs.active_shops, 0) AS active_shops,
           coalesce(vs.revenue_rmb, 0)::DECIMAL(18,2) AS revenue_rmb
    FROM villages v LEFT JOIN village_shops vs USING (village_code)
)
SELECT edition, village_code, village_name,
       village_code[1:9] AS township_code, township_name,
       village_code[1:6] AS county_code, county_name,
       village_code[1:4] AS prefecture_code, prefecture_name,
       village_code[1:2] AS province_code, province_name,
       urban_rural_code, households, shops, active_shops, revenue_rmb,
       CASE WHEN households > 0 THEN active_shops / households END AS shop_density,
       -- a village committee (村委会), optionally of allowed urban-rural classes
       village_code[10:12] BETWEEN '200' AND '399'
           AND ($allowed_codes IS NULL
                OR list_contains($allowed_codes::VARCHAR[], urban_rural_code))
           AS is_rural,
       revenue_rmb >= $min_revenue_rmb::DECIMAL(18,2) AS meets_revenue,
       active_shops >= $min_active_shops::BIGINT
           OR (households > 0 AND active_shops >= households * $min_shop_share::DECIMAL(9,4))
           AS meets_shops,
       is_rural AND meets_revenue AND meets_shops AS is_taobao_village
FROM metrics
"""

TAOBAO_VILLAGES = """
SELECT *, NULL::INTEGER AS first_edition  -- set on publishing, across all editions
FROM village_metrics WHERE is_taobao_village
"""

TAOBAO_TOWNS = """
WITH townships AS (  -- sums over every village-level unit of the township
    SELECT edition, township_code,
           mode(township_name) AS township_name,
           any_value(county_code) AS county_code, mode(county_name) AS county_name,
           any_value(province_code) AS province_code, mode(province_name) AS province_name,
           count(*) FILTER (is_taobao_village) AS taobao_villages,
           sum(revenue_rmb)::DECIMAL(18,2) AS revenue_rmb,
           sum(active_shops) AS active_shops,
           township_code[7:9] BETWEEN '001' AND '099' AS is_subdistrict
    FROM village_metrics GROUP BY edition, township_code
),
judged AS (
    SELECT *,
           taobao_villages >= $town_min_villages::BIGINT AS by_villages,
           edition >= $town_sales_rule_from::INTEGER
               AND revenue_rmb > $town_min_revenue_rmb::DECIMAL(18,2)
               AND active_shops > $town_min_active_shops::BIGINT AS by_sales
    FROM townships
)
SELECT * FROM judged
WHERE (by_villages OR by_sales)
  AND NOT (is_subdistrict AND edition >= $subdistricts_excluded_from::INTEGER)
"""

PROVINCE_SUMMARY = f"""
SELECT v.edition, v.province_code, mode(v.province_name) AS province_name,
       {region_sql("v.province_code")} AS region,
       count(*) FILTER (v.is_taobao_village) AS taobao_villages,
       coalesce(any_value(t.towns), 0) AS taobao_towns,
       coalesce(sum(v.revenue_rmb) FILTER (v.is_taobao_village), 0)::DECIMAL(18,2)
           AS revenue_rmb,
       coalesce(sum(v.active_shops) FILTER (v.is_taobao_village), 0) AS active_shops,
       count(*) AS villages,
       sum(v.shops) AS shops,
       sum(v.active_shops) AS all_active_shops,
       sum(v.revenue_rmb)::DECIMAL(18,2) AS all_revenue_rmb
FROM village_metrics v
LEFT JOIN (SELECT province_code, count(*) AS towns FROM taobao_towns GROUP BY ALL) t
    USING (province_code)
GROUP BY v.edition, v.province_code
HAVING sum(v.shops) > 0  -- provinces with any shop
"""

NATIONAL_SUMMARY = f"""
SELECT $edition::INTEGER AS edition,
       count(*) FILTER (is_taobao_village) AS taobao_villages,
       -- the shift inland: the share of Taobao villages outside the East
       count(*) FILTER (is_taobao_village AND {region_sql("province_code")} <> 'East')
           / nullif(count(*) FILTER (is_taobao_village), 0) AS share_outside_east,
       (SELECT count(*) FROM taobao_towns) AS taobao_towns,
       coalesce(sum(revenue_rmb) FILTER (is_taobao_village), 0)::DECIMAL(18,2) AS revenue_rmb,
       coalesce(sum(active_shops) FILTER (is_taobao_village), 0) AS active_shops,
       count(DISTINCT province_code) FILTER (is_taobao_village) AS provinces,
       count(*) AS villages,
       coalesce(sum(shops), 0) AS shops,
       coalesce(sum(active_shops), 0) AS all_active_shops,
       coalesce(sum(revenue_rmb), 0)::DECIMAL(18,2) AS all_revenue_rmb
FROM village_metrics
"""

STATEMENTS = {
    "village_metrics": VILLAGE_METRICS,
    "taobao_villages": TAOBAO_VILLAGES,
    "taobao_towns": TAOBAO_TOWNS,
    "province_summary": PROVINCE_SUMMARY,
    "national_summary": NATIONAL_SUMMARY,
}


def parameters(edition: int, rules: Rules) -> dict[str, object]:
    """The SQL parameters of ``edition``: its window and thresholds."""
    r = rules.for_edition(edition)
    w = window(edition, rules)
    return {
        "edition": edition,
        "cutoff_date": w.cutoff_date,
        "last_months": w.months[-r.activity_months :],
        "min_days_open": r.min_days_open,
        "min_avg_orders": r.min_avg_orders,
        "allowed_codes": list(r.allowed_urban_rural_codes)
        if r.allowed_urban_rural_codes is not None
        else None,
        "min_revenue_rmb": r.min_revenue_rmb,
        "min_active_shops": r.min_active_shops,
        "min_shop_share": r.min_shop_share,
        "town_min_villages": r.town_min_villages,
        "town_sales_rule_from": r.town_sales_rule_from,
        "town_min_revenue_rmb": r.town_min_revenue_rmb,
        "town_min_active_shops": r.town_min_active_shops,
        "subdistricts_excluded_from": r.subdistricts_excluded_from,
    }


def used(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The parameters ``sql`` refers to (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


class StaleStaging(Exception):
    """A staged table was built under other rules than those in force."""


def sales_window(edition: int, rules: Rules) -> dict[str, object]:
    """The months the staged sales depend on: the window, and its last (recent) months."""
    return {
        "window": window(edition, rules).months,
        "last_months": parameters(edition, rules)["last_months"],
    }


def _require_sales_window(stg: Staging, edition: int, rules: Rules) -> None:
    """The staged sales were judged and summed for the window the rules now give."""
    staged, now = stg.note("shop_sales"), sales_window(edition, rules)
    if staged is not None and staged != now:
        raise StaleStaging(
            f"edition {edition}: the revenue was staged for the months "
            f"{staged['window'][0]}..{staged['window'][-1]} (recent: "
            f"{', '.join(staged['last_months'])}), the rules now ask for "
            f"{now['window'][0]}..{now['window'][-1]}: materialize the revenue asset again"
        )


def compute(stg: Staging, table: str, edition: int, rules: Rules) -> int:
    """Replace ``table`` in an edition's staging with its computation; rows written."""
    sql = STATEMENTS[table]
    if "shop_sales" in sql:
        _require_sales_window(stg, edition, rules)
    stg.remove_note(table)  # noted once written: the rules and code it was computed under
    rows = stg.write(table, sql, used(sql, parameters(edition, rules)))
    stg.write_note(table, computed_under(rules, edition))
    return rows
