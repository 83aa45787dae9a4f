-- The ten designated villages with the largest revenue, for the UI's preview. The order is
-- by the DECIMAL column, not by the text shown; revenue stays DECIMAL until it is worded.
SELECT t.village_name AS village, t.county_name AS county, t.province_name AS province,
       t.active_shops, t.revenue_rmb, t.village_code
FROM taobao_villages t
ORDER BY t.revenue_rmb DESC, t.village_code
LIMIT 10
