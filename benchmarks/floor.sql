-- The floor: Taobao village designations straight from the raw files, in one DuckDB script.
--
-- No validation, no rejection, no staging: read every edition's files at once, type the
-- values (a value that does not parse becomes NULL and its row is dropped), keep one copy
-- of identical rows, keep the 12 months of each edition's window, and compute the contract's
-- revenue, active shops and designations. Run by benchmarks/floor.py, which globs the layout
-- (<raw>/<edition>/villages.*, shops.*, revenue*) for the chosen editions and binds:
--   getvariable('<source>_csv')     the UTF-8 CSV files (.csv, .csv.gz) of the editions
--   getvariable('<source>_parquet') the Parquet files of the editions
--   <source>_lossy                  the other CSV files (GB18030), decoded by polars: DuckDB
--                                   reads only UTF-8, UTF-16 and Latin-1 without its
--                                   `encodings` extension, which cannot be installed here.
-- The edition is the name of a file's folder; the cut-off date is the last day of June.
-- CSV dialect given, not sniffed: padded values make the sniffer miss the quotes of "".

CREATE MACRO edition_of(path) AS regexp_extract(path, '(\d{4})[/\\][^/\\]*$', 1)::INTEGER;

CREATE VIEW villages_typed AS
WITH
text_rows AS (
    FROM villages_lossy
    UNION ALL BY NAME
    FROM read_csv(getvariable('villages_csv'), header = true, delim = ',', quote = '"',
                  escape = '"', all_varchar = true, union_by_name = true, filename = true,
                  allow_empty = true)
),
parquet_rows AS (
    SELECT NULL::VARCHAR AS village_code, NULL::BIGINT AS households,
           NULL::VARCHAR AS filename
    WHERE false
    UNION ALL BY NAME
    FROM read_parquet(getvariable('villages_parquet'), union_by_name = true, filename = true,
                      allow_empty = true)
)
SELECT edition_of(filename) AS edition, trim(village_code) AS village_code,
       TRY_CAST(trim(households) AS BIGINT) AS households
FROM text_rows
UNION ALL
SELECT edition_of(filename), trim(village_code), TRY_CAST(households AS BIGINT)
FROM parquet_rows;

CREATE VIEW shops_typed AS
WITH
text_rows AS (
    FROM shops_lossy
    UNION ALL BY NAME
    FROM read_csv(getvariable('shops_csv'), header = true, delim = ',', quote = '"', escape = '"',
                  all_varchar = true, union_by_name = true, filename = true, allow_empty = true)
),
parquet_rows AS (
    SELECT NULL::VARCHAR AS shop_id, NULL::VARCHAR AS village_code, NULL::DATE AS opened_on,
           NULL::DATE AS closed_on, NULL::VARCHAR AS filename
    WHERE false
    UNION ALL BY NAME
    FROM read_parquet(getvariable('shops_parquet'), union_by_name = true, filename = true,
                      allow_empty = true)
)
SELECT edition_of(filename) AS edition, trim(shop_id) AS shop_id,
       trim(village_code) AS village_code,
       TRY_CAST(trim(opened_on) AS DATE) AS opened_on,
       TRY_CAST(nullif(trim(closed_on), '') AS DATE) AS closed_on,
       nullif(trim(closed_on), '') IS NOT NULL AS has_closed_on
FROM text_rows
UNION ALL
SELECT edition_of(filename), trim(shop_id), trim(village_code),
       TRY_CAST(opened_on AS DATE), TRY_CAST(closed_on AS DATE), closed_on IS NOT NULL
FROM parquet_rows;

CREATE VIEW revenue_typed AS
WITH
text_rows AS (
    FROM revenue_lossy
    UNION ALL BY NAME
    FROM read_csv(getvariable('revenue_csv'), header = true, delim = ',', quote = '"', escape = '"',
                  all_varchar = true, union_by_name = true, filename = true, allow_empty = true)
),
parquet_rows AS (
    SELECT NULL::VARCHAR AS shop_id, NULL::VARCHAR AS month, NULL::DECIMAL(18, 2) AS gmv_rmb,
           NULL::BIGINT AS orders, NULL::VARCHAR AS filename
    WHERE false
    UNION ALL BY NAME
    FROM read_parquet(getvariable('revenue_parquet'), union_by_name = true, filename = true,
                      allow_empty = true)
)
SELECT edition_of(filename) AS edition, trim(shop_id) AS shop_id,
       try_strptime(trim(month), '%Y-%m')::DATE AS month,
       TRY_CAST(trim(gmv_rmb) AS DECIMAL(18, 2)) AS gmv_rmb,
       TRY_CAST(trim(orders) AS BIGINT) AS orders
FROM text_rows
UNION ALL
SELECT edition_of(filename), trim(shop_id), try_strptime(trim(month), '%Y-%m')::DATE,
       TRY_CAST(gmv_rmb AS DECIMAL(18, 2)), TRY_CAST(orders AS BIGINT)
FROM parquet_rows;

CREATE TABLE designated AS
WITH
villages AS (  -- rows that parse; identical copies once
    SELECT DISTINCT * FROM villages_typed
    WHERE edition IS NOT NULL AND village_code IS NOT NULL AND households IS NOT NULL
),
shops AS (  -- a closing date that does not parse drops the row, an empty one is "open"
    SELECT DISTINCT edition, shop_id, village_code, opened_on, closed_on FROM shops_typed
    WHERE edition IS NOT NULL AND shop_id IS NOT NULL AND opened_on IS NOT NULL
      AND (closed_on IS NOT NULL OR NOT has_closed_on)
),
revenue AS (  -- the 12 months of the edition's window
    SELECT DISTINCT * FROM revenue_typed
    WHERE month BETWEEN make_date(edition - 1, 7, 1) AND make_date(edition, 6, 1)
      AND shop_id IS NOT NULL AND gmv_rmb IS NOT NULL AND orders IS NOT NULL
),
shop_sales AS (  -- all months' revenue; orders of the last 3 months in which it was open
    SELECT s.edition, s.shop_id,
           sum(r.gmv_rmb) AS revenue_rmb,
           coalesce(sum(r.orders) FILTER (
               r.month >= make_date(s.edition, 4, 1) AND s.opened_on <= last_day(r.month)
           ), 0) AS recent_orders
    FROM shops s JOIN revenue r USING (edition, shop_id)
    GROUP BY ALL
),
shop_status AS (
    SELECT s.edition, s.village_code, coalesce(ss.revenue_rmb, 0) AS revenue_rmb,
           s.opened_on <= make_date(s.edition, 6, 30) - 30
           AND (s.closed_on IS NULL OR s.closed_on > make_date(s.edition, 6, 30))
           AND coalesce(ss.recent_orders, 0) >= (  -- 1 order a month it was open
               (s.opened_on <= make_date(s.edition, 4, 30))::INT
               + (s.opened_on <= make_date(s.edition, 5, 31))::INT
               + (s.opened_on <= make_date(s.edition, 6, 30))::INT
           ) AS is_active
    FROM shops s LEFT JOIN shop_sales ss USING (edition, shop_id)
),
village_totals AS (
    SELECT edition, village_code, sum(revenue_rmb) AS revenue_rmb,
           count(*) FILTER (is_active) AS active_shops
    FROM shop_status GROUP BY ALL
)
SELECT DISTINCT v.edition, v.village_code
FROM villages v JOIN village_totals t USING (edition, village_code)
WHERE v.village_code[10:12] BETWEEN '200' AND '399'
  AND t.revenue_rmb >= 10000000.00
  AND (t.active_shops >= 100 OR (v.households > 0 AND t.active_shops >= v.households * 0.10));
