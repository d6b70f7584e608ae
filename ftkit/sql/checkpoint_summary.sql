-- ftkit.checkpoint_summary (metric valid_loss, mode min): one row per job, checkpoint counts,
-- final metrics, the best step and what it scored. Runs unchanged on DuckDB and Spark SQL.
-- A job's checkpoints are ordered by step_number, then created_at (ftkit keeps the order of
-- the job's list where both are equal). Validation metrics of 0.0 beside a null or 0.0 are
-- placeholders for "not measured": null here, as in ftkit.
WITH measured AS (
    SELECT
        job_id, step_number, created_at, train_loss,
        CASE WHEN valid_loss = 0.0
                  AND (valid_mean_token_accuracy IS NULL OR valid_mean_token_accuracy = 0.0)
             THEN NULL ELSE valid_loss END AS valid_loss,
        CASE WHEN valid_mean_token_accuracy = 0.0 AND (valid_loss IS NULL OR valid_loss = 0.0)
             THEN NULL ELSE valid_mean_token_accuracy END AS valid_mean_token_accuracy
    FROM checkpoints
),
cp AS (
    SELECT
        measured.*,
        ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY step_number, created_at) AS pos,
        ROW_NUMBER() OVER (
            PARTITION BY job_id ORDER BY valid_loss ASC NULLS LAST, step_number, created_at
        ) AS best_rank
    FROM measured
),
agg AS (
    -- One pass: MAX_BY/MIN_BY with a position that is null where the value is, so that
    -- "final" is the last measured value; best_rank 1 is the earliest lowest valid_loss.
    SELECT
        job_id,
        COUNT(CASE WHEN valid_loss IS NOT NULL OR valid_mean_token_accuracy IS NOT NULL THEN 1 END)
            AS n_evaluated,
        MAX(step_number) AS last_step,
        MAX_BY(train_loss, CASE WHEN train_loss IS NOT NULL THEN pos END) AS final_train_loss,
        MAX_BY(valid_loss, CASE WHEN valid_loss IS NOT NULL THEN pos END) AS final_valid_loss,
        MAX_BY(valid_mean_token_accuracy, CASE WHEN valid_mean_token_accuracy IS NOT NULL THEN pos END)
            AS final_valid_mean_token_accuracy,
        MAX(CASE WHEN best_rank = 1 AND valid_loss IS NOT NULL THEN step_number END) AS best_step,
        MAX(CASE WHEN best_rank = 1 AND valid_loss IS NOT NULL THEN train_loss END) AS best_train_loss,
        MAX(CASE WHEN best_rank = 1 THEN valid_loss END) AS best_valid_loss,
        MAX(CASE WHEN best_rank = 1 AND valid_loss IS NOT NULL THEN valid_mean_token_accuracy END)
            AS best_valid_mean_token_accuracy,
        MIN_BY(valid_loss, CASE WHEN valid_loss IS NOT NULL THEN pos END) AS first_valid_loss,
        MAX_BY(valid_loss - train_loss, CASE WHEN valid_loss IS NOT NULL AND train_loss IS NOT NULL THEN pos END)
            AS gap_final
    FROM cp
    GROUP BY job_id
)
SELECT
    j.job_id,
    j.n_checkpoints,
    CASE WHEN j.n_checkpoints IS NOT NULL THEN COALESCE(a.n_evaluated, 0) END AS n_evaluated,
    a.last_step,
    a.final_train_loss,
    a.final_valid_loss,
    a.final_valid_mean_token_accuracy,
    a.best_step,
    a.best_train_loss,
    a.best_valid_loss,
    a.best_valid_mean_token_accuracy,
    a.first_valid_loss - a.best_valid_loss AS improvement,
    a.best_valid_loss - a.best_train_loss AS gap_at_best,
    a.gap_final,
    a.last_step - a.best_step AS steps_after_best
FROM jobs AS j
LEFT JOIN agg AS a ON a.job_id = j.job_id
ORDER BY j.job_id
