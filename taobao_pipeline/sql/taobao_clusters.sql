-- Taobao village clusters: the county-level units of county_summary with a tier (>= 10
-- Taobao villages), and their share of the edition's Taobao villages.
SELECT edition, county_code, county_name, prefecture_code, prefecture_name,
       province_code, province_name, taobao_villages, tier,
       tier IN ('large', 'super_large') AS is_large,
       tier = 'super_large' AS is_super_large,
       taobao_towns, revenue_rmb, active_shops,
       taobao_villages / (SELECT sum(taobao_villages) FROM county_summary) AS share_of_villages
FROM county_summary
WHERE tier IS NOT NULL
