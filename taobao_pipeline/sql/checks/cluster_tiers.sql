-- Tiers nested: one row per violation (none when the check holds), per edition. Each
-- cluster's tier is the one its Taobao villages give (>= 10 cluster, >= 30 large, >= 100
-- super-large), a super-large cluster is large, every unit of county_summary with >= 10
-- Taobao villages is a cluster, and the nation counts super-large <= large <= clusters,
-- as many as taobao_clusters holds.
WITH tiers AS (
    SELECT edition,
           count(*) AS clusters,
           count(*) FILTER (is_large) AS large_clusters,
           count(*) FILTER (is_super_large) AS super_large_clusters
    FROM taobao_clusters GROUP BY ALL
)
SELECT edition, county_code, 'tier does not follow the Taobao villages' AS violation,
       taobao_villages AS figure, NULL::BIGINT AS bound
FROM taobao_clusters
WHERE taobao_villages < 10
   OR tier IS DISTINCT FROM CASE WHEN taobao_villages >= 100 THEN 'super_large'
                                 WHEN taobao_villages >= 30 THEN 'large'
                                 ELSE 'cluster' END
   OR is_large IS DISTINCT FROM (taobao_villages >= 30)
   OR is_super_large IS DISTINCT FROM (taobao_villages >= 100)
UNION ALL
SELECT edition, county_code, 'super-large cluster not large', taobao_villages, NULL
FROM taobao_clusters
WHERE is_super_large AND NOT is_large
UNION ALL
SELECT s.edition, s.county_code, 'unit with >= 10 Taobao villages is no cluster',
       s.taobao_villages, 10
FROM county_summary s
WHERE s.taobao_villages >= 10
  AND NOT EXISTS (
      SELECT 1 FROM taobao_clusters c
      WHERE c.edition = s.edition AND c.county_code = s.county_code
  )
UNION ALL
SELECT edition, NULL, 'super-large clusters exceed large ones',
       super_large_clusters, large_clusters
FROM national_summary WHERE super_large_clusters > large_clusters
UNION ALL
SELECT edition, NULL, 'large clusters exceed clusters', large_clusters, clusters
FROM national_summary WHERE large_clusters > clusters
UNION ALL
SELECT n.edition, NULL, 'national ' || m.tier || ' differ from taobao_clusters', m.n, m.k
FROM national_summary n
LEFT JOIN tiers t USING (edition),
LATERAL (VALUES
    ('clusters', n.clusters, coalesce(t.clusters, 0)),
    ('large_clusters', n.large_clusters, coalesce(t.large_clusters, 0)),
    ('super_large_clusters', n.super_large_clusters, coalesce(t.super_large_clusters, 0))
) AS m(tier, n, k)
WHERE m.n <> m.k
ORDER BY ALL
