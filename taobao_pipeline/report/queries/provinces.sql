-- Every province's tile (the registered ``tiles``) in every edition, with its names (the
-- warehouse's ``provinces``), its Taobao villages and towns (0 where none) and the revenue
-- of its Taobao villages (RMB billion).
SELECT e.edition, n.province_code, n.province_name AS province, n.short_name AS short,
       t.col, t.row, n.region,
       coalesce(p.taobao_villages, 0) AS taobao_villages,
       coalesce(p.taobao_towns, 0) AS taobao_towns,
       coalesce(p.revenue_rmb, 0)::DOUBLE / 1e9 AS revenue_rmb_bn
FROM (SELECT edition FROM national_summary) e
CROSS JOIN provinces n
JOIN tiles t ON t.code = n.province_code
LEFT JOIN province_summary p ON p.edition = e.edition AND p.province_code = n.province_code
ORDER BY e.edition, n.province_code
