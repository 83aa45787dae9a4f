-- Rejected rows by reason and source, over all editions. A row breaking several rules lists
-- them separated by '; ' and counts under each; the row and window of a reason are dropped
-- so that equal rules group together.
WITH reasons AS (
    SELECT source, edition, unnest(string_split(reason, '; ')) AS reason FROM rejected_rows
)
SELECT source,
       regexp_replace(
           regexp_replace(reason, ' of .* with identical values$', ''),
           ' \d{4}-\d{2}\.\.\d{4}-\d{2}$', '') AS reason,
       count(*) AS rows_rejected
FROM reasons
GROUP BY ALL
ORDER BY rows_rejected DESC, source, reason
