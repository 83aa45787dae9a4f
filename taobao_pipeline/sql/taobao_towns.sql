-- Taobao towns: sums over every village-level unit of the township.
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
