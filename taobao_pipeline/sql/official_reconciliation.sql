-- Per edition with a published list (official_villages) and per province: the villages
-- listed, the Taobao villages computed and their difference. Provinces are matched by
-- statistical code. Names are unqualified: the warehouse runs it with USE wh.
WITH codes AS (SELECT province_code, province_name AS province FROM provinces),
listed AS (
    SELECT o.edition, c.province_code, o.province, count(*) AS n
    FROM official_villages AS o
    LEFT JOIN codes AS c ON c.province = o.province
    GROUP BY ALL
),
computed AS (
    SELECT t.edition,
           lpad(CAST(t.province_code AS VARCHAR), 2, '0') AS province_code,
           min(t.province_name) AS province_name,
           count(DISTINCT t.village_code) AS n
    FROM taobao_villages AS t
    WHERE t.edition IN (SELECT edition FROM official_villages)
    GROUP BY ALL
)
SELECT CAST(coalesce(l.edition, c.edition) AS INTEGER) AS edition,
       coalesce(l.province_code, c.province_code) AS province_code,
       coalesce(k.province, l.province, c.province_name) AS province,
       CAST(coalesce(l.n, 0) AS INTEGER) AS listed_villages,
       CAST(coalesce(c.n, 0) AS INTEGER) AS computed_villages,
       CAST(coalesce(c.n, 0) - coalesce(l.n, 0) AS INTEGER) AS difference
FROM listed AS l
FULL OUTER JOIN computed AS c
  ON l.edition = c.edition AND l.province_code = c.province_code
LEFT JOIN codes AS k ON k.province_code = coalesce(l.province_code, c.province_code)
ORDER BY edition, province_code NULLS LAST, province
