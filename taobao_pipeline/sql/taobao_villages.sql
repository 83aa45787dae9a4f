-- The designated villages; first_edition is set on publishing, across all editions.
SELECT *, NULL::INTEGER AS first_edition  -- set on publishing, across all editions
FROM village_metrics WHERE is_taobao_village
