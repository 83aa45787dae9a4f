-- An edition's Taobao village clusters for the UI: the largest first. The order is by the
-- numbers, not the text shown; revenue stays DECIMAL until it is worded.
SELECT c.county_name AS county, c.province_name AS province, c.tier, c.taobao_villages,
       s.revenue_rmb, c.county_code
FROM county_summary s JOIN taobao_clusters c USING (edition, county_code)
ORDER BY c.taobao_villages DESC, c.county_code
LIMIT 20
