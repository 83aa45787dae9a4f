-- The edition's national figures.
SELECT $edition::INTEGER AS edition,
       count(*) FILTER (is_taobao_village) AS taobao_villages,
       -- the shift inland: the share of Taobao villages outside the East
       count(*) FILTER (is_taobao_village AND p.region <> 'East')
           / nullif(count(*) FILTER (is_taobao_village), 0) AS share_outside_east,
       (SELECT count(*) FROM taobao_towns) AS taobao_towns,
       coalesce(sum(revenue_rmb) FILTER (is_taobao_village), 0)::DECIMAL(18,2) AS revenue_rmb,
       coalesce(sum(active_shops) FILTER (is_taobao_village), 0) AS active_shops,
       count(DISTINCT province_code) FILTER (is_taobao_village) AS provinces,
       count(*) AS villages,
       coalesce(sum(shops), 0) AS shops,
       coalesce(sum(active_shops), 0) AS all_active_shops,
       coalesce(sum(revenue_rmb), 0)::DECIMAL(18,2) AS all_revenue_rmb,
       -- sales of Taobao villages and of the other units of Taobao towns, once each
       coalesce(sum(revenue_rmb) FILTER (
           is_taobao_village OR township_code IN (SELECT township_code FROM taobao_towns)
       ), 0)::DECIMAL(18,2) AS revenue_rmb_villages_and_towns,
       -- AliResearch's clusters by tier (taobao_clusters), and the share of Taobao villages
       -- inside them (the 2019 report: 54% in 2015 ... 76% in 2019)
       (SELECT count(*) FROM taobao_clusters) AS clusters,
       (SELECT count(*) FILTER (is_large) FROM taobao_clusters) AS large_clusters,
       (SELECT count(*) FILTER (is_super_large) FROM taobao_clusters) AS super_large_clusters,
       (SELECT coalesce(sum(taobao_villages), 0) FROM taobao_clusters) AS villages_in_clusters,
       (SELECT coalesce(sum(taobao_villages), 0) FROM taobao_clusters)
           / nullif(count(*) FILTER (is_taobao_village), 0) AS share_in_clusters
FROM village_metrics LEFT JOIN provinces p USING (province_code)
