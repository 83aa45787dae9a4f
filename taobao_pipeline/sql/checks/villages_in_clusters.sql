-- Villages in clusters <= villages: one row per violation (none when the check holds), per
-- edition. A cluster holds no more Taobao villages than the designated villages of its
-- county-level unit, counted again from taobao_villages; the nation's villages in clusters
-- are the clusters' sum and no more than its Taobao villages.
WITH designated AS (
    SELECT edition, county_code, count(*) AS taobao_villages
    FROM taobao_villages GROUP BY ALL
),
clustered AS (
    SELECT edition, sum(taobao_villages) AS villages_in_clusters
    FROM taobao_clusters GROUP BY ALL
)
SELECT c.edition, c.county_code,
       'cluster holds more Taobao villages than its unit has' AS violation,
       c.taobao_villages AS figure, coalesce(d.taobao_villages, 0) AS bound
FROM taobao_clusters c
LEFT JOIN designated d USING (edition, county_code)
WHERE c.taobao_villages > coalesce(d.taobao_villages, 0)
UNION ALL
SELECT n.edition, NULL, 'villages in clusters exceed the Taobao villages',
       n.villages_in_clusters, n.taobao_villages
FROM national_summary n
WHERE n.villages_in_clusters > n.taobao_villages
UNION ALL
SELECT n.edition, NULL, 'villages in clusters differ from the sum over the clusters',
       n.villages_in_clusters, coalesce(k.villages_in_clusters, 0)
FROM national_summary n
LEFT JOIN clustered k USING (edition)
WHERE n.villages_in_clusters <> coalesce(k.villages_in_clusters, 0)
ORDER BY ALL
