-- The ten designated villages with the largest revenue, for the UI's preview. The order is
-- by the DECIMAL column (t.revenue_rmb), not by the text shown: as text, 9999999.99 would
-- rank above 120000000.00.
SELECT t.village_code, t.village_name, t.county_name, t.province_name, t.active_shops,
       t.revenue_rmb::VARCHAR AS revenue_rmb
FROM taobao_villages t
ORDER BY t.revenue_rmb DESC, t.village_code
LIMIT 10
