-- An edition's provinces for the UI: those with a Taobao village, most villages first. The
-- order is by the numbers (not the text shown); revenue stays DECIMAL until it is worded.
SELECT province_name AS province, region, taobao_villages, taobao_towns, revenue_rmb,
       active_shops
FROM province_summary
WHERE taobao_villages > 0
ORDER BY taobao_villages DESC, revenue_rmb DESC, province_code
