-- The counties with the most Taobao villages in the latest edition (the clusters).
SELECT county_code, any_value(county_name) AS county, any_value(province_name) AS province,
       count(*) AS taobao_villages, sum(active_shops)::BIGINT AS active_shops,
       sum(revenue_rmb)::DOUBLE / 1e9 AS revenue_rmb_bn
FROM taobao_villages
WHERE edition = (SELECT max(edition) FROM national_summary)
GROUP BY county_code
ORDER BY taobao_villages DESC, revenue_rmb_bn DESC, county_code
LIMIT $top
