-- ftkit.pareto(cost="cost", quality="best_valid_loss", by=["provider", "job_type"]): the jobs
-- that no other job of their provider, job type and currency beats on both cost and best
-- valid_loss. On a dataset of one provider these are the rows of ftkit.pareto's default
-- (by="job_type") with a provider column added. Other axes: edit `scored`.
-- Runs unchanged on DuckDB and Spark SQL. Rows are sorted by provider, job type, currency,
-- cost, valid loss, then job_id (ftkit keeps its jobs' order where all those are equal).
WITH best AS (
    -- checkpoint_summary's best_valid_loss: the lowest measured valid_loss (a 0.0 beside a
    -- null or 0.0 accuracy is a placeholder for "not measured").
    SELECT
        job_id,
        MIN(CASE WHEN valid_loss = 0.0 AND (valid_mean_token_accuracy IS NULL OR valid_mean_token_accuracy = 0.0)
                 THEN NULL ELSE valid_loss END) AS best_valid_loss
    FROM checkpoints
    GROUP BY job_id
),
scored AS (
    -- token_usage's cost: 0.0 without a currency is the placeholder of a new job.
    SELECT
        j.job_id, j.provider, j.job_type,
        CASE WHEN j.cost = 0.0 AND j.cost_currency IS NULL THEN NULL ELSE j.cost END AS cost,
        b.best_valid_loss,
        j.cost_currency
    FROM jobs AS j
    LEFT JOIN best AS b ON b.job_id = j.job_id
),
candidates AS (
    SELECT * FROM scored WHERE cost IS NOT NULL AND best_valid_loss IS NOT NULL
),
levels AS (
    -- per group and cost, the best quality at that cost and the best at any lower cost
    SELECT
        provider, job_type, cost_currency, cost, level_best,
        MIN(level_best) OVER (
            PARTITION BY provider, job_type, cost_currency ORDER BY cost
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS cheaper_best
    FROM (
        SELECT provider, job_type, cost_currency, cost, MIN(best_valid_loss) AS level_best
        FROM candidates
        GROUP BY provider, job_type, cost_currency, cost
    ) AS by_cost
)
SELECT c.job_id, c.provider, c.job_type, c.cost, c.best_valid_loss, c.cost_currency
FROM candidates AS c
JOIN levels AS l
    ON l.provider IS NOT DISTINCT FROM c.provider
    AND l.job_type IS NOT DISTINCT FROM c.job_type
    AND l.cost_currency IS NOT DISTINCT FROM c.cost_currency
    AND l.cost = c.cost
WHERE c.best_valid_loss = l.level_best
    AND (l.cheaper_best IS NULL OR c.best_valid_loss < l.cheaper_best)
ORDER BY
    c.provider NULLS LAST, c.job_type NULLS LAST, c.cost_currency NULLS LAST, c.cost,
    c.best_valid_loss, c.job_id
