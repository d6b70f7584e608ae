-- ftkit.token_usage: one row per job: tokens, epochs realised, cost and cost per million tokens.
-- A cost of 0.0 without a currency is the placeholder of a new job: null, never "free".
-- Runs unchanged on DuckDB and Spark SQL over the tables of `ftkit convert`.
SELECT
    job_id,
    trained_tokens,
    train_tokens,
    data_tokens,
    CASE WHEN data_tokens > 0 THEN CAST(trained_tokens AS DOUBLE) / data_tokens END AS epochs_realised,
    cost,
    cost_currency,
    CASE WHEN trained_tokens > 0 THEN cost * 1e6 / trained_tokens END AS cost_per_million_tokens
FROM (
    SELECT
        job_id, trained_tokens, train_tokens, data_tokens, cost_currency,
        CASE WHEN cost = 0.0 AND cost_currency IS NULL THEN NULL ELSE cost END AS cost
    FROM jobs
) AS priced
ORDER BY job_id
