-- Taobao village clusters per edition by tier (each unit counted in its highest tier), the
-- share of Taobao villages inside clusters, and the published figures (reconciliation,
-- published figures only): clusters counted and the share in percent.
WITH tiers AS (
    UNPIVOT (
        SELECT edition,
               clusters - large_clusters AS "cluster (10-29)",
               large_clusters - super_large_clusters AS "large (30-99)",
               super_large_clusters AS "super-large (100+)"
        FROM national_summary
    ) ON "cluster (10-29)", "large (30-99)", "super-large (100+)"
    INTO NAME tier VALUE clusters
)
SELECT t.edition, t.tier, t.clusters,
       n.clusters AS all_clusters,
       n.share_in_clusters,
       c.published::DOUBLE AS published_clusters,
       s.published::DOUBLE / 100 AS published_share
FROM tiers t
JOIN national_summary n USING (edition)
LEFT JOIN reconciliation c ON c.edition = t.edition AND c.measure = 'clusters'
LEFT JOIN reconciliation s ON s.edition = t.edition AND s.measure = 'share_in_clusters'
ORDER BY t.edition, t.tier
