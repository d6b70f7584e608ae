-- ftkit.token_usage_totals: totals of token_usage, one row per currency (never added across
-- currencies); null currency last. Runs unchanged on DuckDB and Spark SQL.
SELECT
    cost_currency,
    COUNT(*) AS n_jobs,
    COUNT(cost) AS n_priced,
    CAST(SUM(trained_tokens) AS BIGINT) AS trained_tokens,
    SUM(cost) AS cost,
    SUM(CASE WHEN cost IS NOT NULL AND trained_tokens > 0 THEN cost END) * 1e6
        / SUM(CASE WHEN cost IS NOT NULL AND trained_tokens > 0 THEN trained_tokens END)
        AS cost_per_million_tokens
FROM (
    SELECT
        trained_tokens, cost_currency,
        CASE WHEN cost = 0.0 AND cost_currency IS NULL THEN NULL ELSE cost END AS cost
    FROM jobs
) AS priced
GROUP BY cost_currency
ORDER BY cost_currency NULLS LAST
