-- Per province with any shop: its Taobao villages and towns, and all its villages.
SELECT v.edition, v.province_code, mode(v.province_name) AS province_name,
       any_value(p.region) AS region,
       count(*) FILTER (v.is_taobao_village) AS taobao_villages,
       coalesce(any_value(t.towns), 0) AS taobao_towns,
       coalesce(sum(v.revenue_rmb) FILTER (v.is_taobao_village), 0)::DECIMAL(18,2)
           AS revenue_rmb,
       coalesce(sum(v.active_shops) FILTER (v.is_taobao_village), 0) AS active_shops,
       count(*) AS villages,
       sum(v.shops) AS shops,
       sum(v.active_shops) AS all_active_shops,
       sum(v.revenue_rmb)::DECIMAL(18,2) AS all_revenue_rmb
FROM village_metrics v
LEFT JOIN (SELECT province_code, count(*) AS towns FROM taobao_towns GROUP BY ALL) t
    USING (province_code)
LEFT JOIN provinces p USING (province_code)
GROUP BY v.edition, v.province_code
HAVING sum(v.shops) > 0  -- provinces with any shop
