-- Per county-level unit with a Taobao village or a Taobao town: its Taobao villages and
-- towns, the sales and active shops of its Taobao villages, and AliResearch's tier of
-- Taobao village clusters (淘宝村集群): 10 or more adjoining Taobao villages make a
-- cluster, 30 a large one (大型), 100 a super-large one (超大型). One county-level unit
-- stands in for "adjoining": the contract carries no coordinates.
WITH villages AS (
    SELECT edition, county_code, mode(county_name) AS county_name,
           any_value(prefecture_code) AS prefecture_code,
           mode(prefecture_name) AS prefecture_name,
           any_value(province_code) AS province_code, mode(province_name) AS province_name,
           count(*) FILTER (is_taobao_village) AS taobao_villages,
           coalesce(sum(revenue_rmb) FILTER (is_taobao_village), 0)::DECIMAL(18,2)
               AS revenue_rmb,
           coalesce(sum(active_shops) FILTER (is_taobao_village), 0) AS active_shops
    FROM village_metrics
    GROUP BY edition, county_code
),
towns AS (SELECT county_code, count(*) AS taobao_towns FROM taobao_towns GROUP BY ALL)
SELECT v.edition, v.county_code, v.county_name, v.prefecture_code, v.prefecture_name,
       v.province_code, v.province_name, v.taobao_villages,
       coalesce(t.taobao_towns, 0) AS taobao_towns,
       v.revenue_rmb, v.active_shops,
       CASE WHEN v.taobao_villages >= 100 THEN 'super_large'
            WHEN v.taobao_villages >= 30 THEN 'large'
            WHEN v.taobao_villages >= 10 THEN 'cluster'
       END AS tier
FROM villages v
LEFT JOIN towns t USING (county_code)
WHERE v.taobao_villages > 0 OR t.taobao_towns > 0
