-- ftkit.effect(jobs, "learning_rate") with its defaults (metric best_valid_loss, bins=4, groups
-- by job_type among the Mistral jobs, which have learning_rate): count, mean, min and max of the
-- metric per learning rate, or per quantile bin of learning rates where a job type has more
-- than 8 distinct ones (ftkit.MAX_DISTINCT_UNBINNED). Runs unchanged on DuckDB and Spark SQL.
-- One difference in form: ftkit's learning_rate column (the value, or the text "lo – hi" of a
-- bin) is here two numbers, learning_rate_lo and learning_rate_hi: the smallest and largest
-- learning rate of the row (equal when not binned). Another parameter or metric: replace
-- j.learning_rate or b.best_valid_loss in `scored` (and the provider filter).
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
    SELECT j.job_type, j.learning_rate AS value, b.best_valid_loss AS metric
    FROM jobs AS j
    LEFT JOIN best AS b ON b.job_id = j.job_id
    WHERE j.provider = 'mistral'
),
binning AS (
    SELECT MAX(n) > 8 AS binned
    FROM (SELECT COUNT(DISTINCT value) AS n FROM scored GROUP BY job_type) AS distinct_values
),
keyed AS (
    -- a bin holds the values ranked (lowest rank for ties) in its quarter of the group
    SELECT
        scored.*,
        CASE WHEN binning.binned AND value IS NOT NULL THEN CAST(FLOOR(
            (RANK() OVER (PARTITION BY job_type ORDER BY value NULLS LAST) - 1) * 4.0
            / COUNT(value) OVER (PARTITION BY job_type)
        ) AS BIGINT) END AS bin,
        CASE WHEN binning.binned THEN NULL ELSE value END AS unbinned
    FROM scored
    CROSS JOIN binning
)
SELECT
    job_type,
    MIN(value) AS learning_rate_lo,
    MAX(value) AS learning_rate_hi,
    COUNT(*) AS n_jobs,
    COUNT(metric) AS count,
    AVG(metric) AS mean,
    MIN(metric) AS min,
    MAX(metric) AS max
FROM keyed
GROUP BY job_type, bin, unbinned
ORDER BY job_type NULLS LAST, bin NULLS LAST, unbinned NULLS LAST
