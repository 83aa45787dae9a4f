-- Rows read, accepted and rejected per source and edition (all files of a source summed).
SELECT edition, source,
       sum(rows_read)::BIGINT AS rows_read,
       sum(rows_accepted)::BIGINT AS rows_accepted,
       sum(rows_rejected)::BIGINT AS rows_rejected,
       sum(rows_rejected) / nullif(sum(rows_read), 0) AS rejected_share
FROM load_audit
GROUP BY edition, source
ORDER BY edition, source
