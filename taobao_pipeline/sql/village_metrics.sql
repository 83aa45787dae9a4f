-- One row per register village: shops, active shops, revenue (exact), density and the
-- three criteria of a Taobao village (macros of criteria.sql).
WITH last_months AS (
    SELECT month, last_day(strptime(month || '-01', '%Y-%m-%d')::DATE) AS month_end
    FROM unnest($last_months::VARCHAR[]) AS t(month)
),
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
       is_village_committee(village_code, urban_rural_code, $allowed_codes::VARCHAR[])
           AS is_rural,
       meets_revenue_rule(revenue_rmb, $min_revenue_rmb::DECIMAL(18,2)) AS meets_revenue,
       meets_shops_rule(active_shops, households, $min_active_shops::BIGINT,
                        $min_shop_share::DECIMAL(9,4)) AS meets_shops,
       is_rural AND meets_revenue AND meets_shops AS is_taobao_village
FROM metrics
