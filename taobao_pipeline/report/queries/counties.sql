-- The county-level units with the most Taobao villages, per edition (the chart's selector
-- picks one): the top $top of each edition, with their tier and province.
SELECT edition, county_code, county_name AS county, province_name AS province,
       taobao_villages, taobao_towns, active_shops,
       revenue_rmb::DOUBLE / 1e9 AS revenue_rmb_bn,
       coalesce(tier, 'below 10') AS tier
FROM county_summary
WHERE taobao_villages > 0
QUALIFY row_number() OVER (
    PARTITION BY edition ORDER BY taobao_villages DESC, revenue_rmb DESC, county_code
) <= $top
ORDER BY edition, taobao_villages DESC
