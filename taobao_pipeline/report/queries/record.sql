-- Each edition's national measures beside the published record (``reconciliation``, which
-- holds only figures a source published): published is empty where none was.
-- Money in RMB billion and shops in thousands, for the axes only (the tables stay exact).
WITH computed AS (
    UNPIVOT (
        SELECT edition,
               taobao_villages::DOUBLE AS taobao_villages,
               taobao_towns::DOUBLE AS taobao_towns,
               revenue_rmb::DOUBLE / 1e9 AS revenue_rmb,
               active_shops::DOUBLE / 1e3 AS active_shops
        FROM national_summary
    ) ON taobao_villages, taobao_towns, revenue_rmb, active_shops
    INTO NAME measure VALUE computed
)
SELECT c.edition, c.measure, c.computed,
       r.published::DOUBLE / CASE c.measure WHEN 'revenue_rmb' THEN 1e9
                                            WHEN 'active_shops' THEN 1e3 ELSE 1 END
           AS published,
       r.published IS NULL AS no_published_figure,
       r.source
FROM computed c
LEFT JOIN reconciliation r USING (edition, measure)
ORDER BY c.measure, c.edition
