-- The criteria of a Taobao village, stated once (the contract, "What the pipeline computes").
-- Created in every staging schema; village_metrics.sql applies them. The asset checks judge
-- the designations against their own statement of the rule (defs/checks.py), not these.

-- 1. a rural administrative village: a village committee (村委会, village digits 10-12 in
--    200-399), of an allowed urban-rural class when the configuration restricts them
CREATE OR REPLACE MACRO is_village_committee(village_code, urban_rural_code, allowed_codes) AS
    village_code[10:12] BETWEEN '200' AND '399'
    AND (allowed_codes IS NULL OR list_contains(allowed_codes, urban_rural_code));

-- 2. village revenue of at least the threshold (RMB 10 million)
CREATE OR REPLACE MACRO meets_revenue_rule(revenue_rmb, min_revenue_rmb) AS
    revenue_rmb >= min_revenue_rmb;

-- 3. at least 100 active shops, or active shops at least 10% of households
CREATE OR REPLACE MACRO meets_shops_rule(active_shops, households, min_active_shops,
                                         min_shop_share) AS
    active_shops >= min_active_shops
    OR (households > 0 AND active_shops >= households * min_shop_share);
