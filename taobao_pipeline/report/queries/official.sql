-- Villages listed in an imported official list against those computed, per province.
SELECT edition, province_code, province, listed_villages, computed_villages, difference
FROM official_reconciliation
ORDER BY edition, listed_villages DESC, province_code
