-- Staged by the revenue ingest over its accepted rows (accepted_revenue): what the
-- metrics need of them, summed per shop. A month counts for a shop's recent orders when
-- the shop was open by its last day, that is when it opened in that month or before: only
-- shops that opened during the last months (a few) need their opening month looked up.
WITH recent_openers AS (
    SELECT shop_id, strftime(opened_on, '%Y-%m') AS opened_month
    FROM shops WHERE strftime(opened_on, '%Y-%m') >= $last_months[1]
)
SELECT $edition AS edition, r.shop_id,
       count(*) AS sales_rows,
       -- every accepted revenue row counts, active shop or not, open or closed
       sum(r.gmv_rmb) AS revenue_rmb,
       -- orders in the last months, counting only the months the shop was open
       coalesce(sum(r.orders) FILTER (
           r.month >= $last_months[1] AND r.month >= coalesce(o.opened_month, '')
       ), 0) AS recent_orders
FROM accepted_revenue r LEFT JOIN recent_openers o USING (shop_id)
GROUP BY r.shop_id
