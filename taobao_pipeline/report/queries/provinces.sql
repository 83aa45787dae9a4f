-- Every province tile (the registered ``tiles``) in every edition, with its Taobao
-- villages and towns (0 where none) and the revenue of its Taobao villages (RMB billion).
SELECT e.edition, t.code AS province_code, t.name AS province, t.short, t.col, t.row,
       coalesce(p.taobao_villages, 0) AS taobao_villages,
       coalesce(p.taobao_towns, 0) AS taobao_towns,
       coalesce(p.revenue_rmb, 0)::DOUBLE / 1e9 AS revenue_rmb_bn,
       coalesce(p.region, '') AS region
FROM (SELECT edition FROM national_summary) e
CROSS JOIN tiles t
LEFT JOIN province_summary p ON p.edition = e.edition AND p.province_code = t.code
ORDER BY e.edition, t.code
