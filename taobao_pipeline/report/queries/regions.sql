-- Taobao villages per region and edition, with the nation's share outside the East.
SELECT p.edition, p.region, sum(p.taobao_villages)::BIGINT AS taobao_villages,
       any_value(n.share_outside_east) AS share_outside_east
FROM province_summary p
JOIN national_summary n USING (edition)
GROUP BY p.edition, p.region
ORDER BY p.edition, p.region
