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
        ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY step_number, created_at) AS pos
    FROM measured
),
agg AS (
    SELECT
        job_id,
        COUNT(CASE WHEN valid_loss IS NOT NULL OR valid_mean_token_accuracy IS NOT NULL THEN 1 END)
            AS n_evaluated,
        MAX(step_number) AS last_step,
        MAX(CASE WHEN train_loss IS NOT NULL THEN pos END) AS final_train_pos,
        MAX(CASE WHEN valid_loss IS NOT NULL THEN pos END) AS final_valid_pos,
        MAX(CASE WHEN valid_mean_token_accuracy IS NOT NULL THEN pos END) AS final_accuracy_pos,
        MIN(CASE WHEN valid_loss IS NOT NULL THEN pos END) AS first_pos,
        MAX(CASE WHEN valid_loss IS NOT NULL AND train_loss IS NOT NULL THEN pos END) AS gap_pos
    FROM cp
    GROUP BY job_id
),
best AS (
    SELECT job_id, pos AS best_pos
    FROM (
        SELECT job_id, pos, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY valid_loss, pos) AS rank_
        FROM cp
        WHERE valid_loss IS NOT NULL
    ) AS ranked
    WHERE rank_ = 1
)
SELECT
    j.job_id,
    j.n_checkpoints,
    CASE WHEN j.n_checkpoints IS NOT NULL THEN COALESCE(a.n_evaluated, 0) END AS n_evaluated,
    a.last_step,
    ft.train_loss AS final_train_loss,
    fv.valid_loss AS final_valid_loss,
    fa.valid_mean_token_accuracy AS final_valid_mean_token_accuracy,
    b.step_number AS best_step,
    b.train_loss AS best_train_loss,
    b.valid_loss AS best_valid_loss,
    b.valid_mean_token_accuracy AS best_valid_mean_token_accuracy,
    f.valid_loss - b.valid_loss AS improvement,
    b.valid_loss - b.train_loss AS gap_at_best,
    g.valid_loss - g.train_loss AS gap_final,
    a.last_step - b.step_number AS steps_after_best
FROM jobs AS j
LEFT JOIN agg AS a ON a.job_id = j.job_id
LEFT JOIN best AS bp ON bp.job_id = j.job_id
LEFT JOIN cp AS b ON b.job_id = j.job_id AND b.pos = bp.best_pos
LEFT JOIN cp AS ft ON ft.job_id = j.job_id AND ft.pos = a.final_train_pos
LEFT JOIN cp AS fv ON fv.job_id = j.job_id AND fv.pos = a.final_valid_pos
LEFT JOIN cp AS fa ON fa.job_id = j.job_id AND fa.pos = a.final_accuracy_pos
LEFT JOIN cp AS f ON f.job_id = j.job_id AND f.pos = a.first_pos
LEFT JOIN cp AS g ON g.job_id = j.job_id AND g.pos = a.gap_pos
ORDER BY j.job_id
