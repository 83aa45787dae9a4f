-- The headline: the latest edition's national figures, beside the first edition's count.
SELECT n.edition, n.taobao_villages, n.taobao_towns, n.revenue_rmb, n.active_shops,
       n.provinces, n.share_outside_east,
       f.edition AS first_edition, f.taobao_villages AS first_taobao_villages,
       (SELECT count(*) FROM national_summary) AS editions
FROM national_summary n, (SELECT * FROM national_summary ORDER BY edition LIMIT 1) f
ORDER BY n.edition DESC
LIMIT 1
