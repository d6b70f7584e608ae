-- ftkit.lifecycle: one row per job: seconds queued, validating and running, and how it ended.
-- Runs on DuckDB and Spark SQL but for one spot: the whole seconds since 1970 of a timestamp,
-- written here as the placeholder EPOCH_SECONDS, which ftkit.sql.query (and `ftkit sql
-- lifecycle --engine ENGINE`) replaces with DuckDB's epoch or Spark's unix_seconds.
-- Status events are put in time order, then in the order a job goes through statuses stamped
-- in the same second; each starts a phase lasting until the job's next status event.
-- One difference from ftkit: same-second events of the same rank keep the order of the job's
-- list in ftkit and are ordered by status name here (a Parquet table has no row order); only
-- a status ftkit does not know, in the same second as CANCELLATION_REQUESTED, can tell.
WITH ranked AS (
    SELECT
        job_id,
        status,
        EPOCH_SECONDS(created_at) AS t,
        CASE status
            WHEN 'QUEUED' THEN 0 WHEN 'STARTED' THEN 1 WHEN 'VALIDATING' THEN 2
            WHEN 'VALIDATED' THEN 3 WHEN 'RUNNING' THEN 4 WHEN 'CANCELLATION_REQUESTED' THEN 5
            WHEN 'SUCCESS' THEN 6 WHEN 'FAILED_VALIDATION' THEN 6 WHEN 'FAILED' THEN 6
            WHEN 'CANCELLED' THEN 6 ELSE 5
        END AS status_rank,
        CASE
            WHEN status IN ('QUEUED', 'VALIDATED') THEN 'queued'
            WHEN status IN ('STARTED', 'VALIDATING') THEN 'validating'
            WHEN status IN ('RUNNING', 'CANCELLATION_REQUESTED') THEN 'running'
        END AS phase,
        status IN ('SUCCESS', 'FAILED', 'FAILED_VALIDATION', 'CANCELLED') AS terminal
    FROM events
    WHERE status IS NOT NULL
),
runs AS (
    SELECT
        ranked.*,
        LEAD(t) OVER (PARTITION BY job_id ORDER BY t, status_rank, status) - t AS dur,
        ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY t DESC, status_rank DESC, status DESC) AS from_last
    FROM ranked
),
per_job AS (
    SELECT
        job_id,
        CAST(COALESCE(SUM(CASE WHEN phase = 'queued' THEN dur END), 0) AS BIGINT) AS queued_s,
        CAST(COALESCE(SUM(CASE WHEN phase = 'validating' THEN dur END), 0) AS BIGINT) AS validating_s,
        CAST(COALESCE(SUM(CASE WHEN phase = 'running' THEN dur END), 0) AS BIGINT) AS running_s,
        MAX(CASE WHEN from_last = 1 THEN phase END) AS open_phase,
        BOOL_OR(from_last = 1 AND terminal) AS ended,
        MAX(CASE WHEN terminal THEN t END) - MIN(t) AS total_s,
        COALESCE(MAX(CASE WHEN status = 'QUEUED' THEN t END) > MIN(CASE WHEN status <> 'QUEUED' THEN t END), FALSE)
            AS late_queued,
        BOOL_OR(status <> 'QUEUED') AS moved_on
    FROM runs
    GROUP BY job_id
)
SELECT
    j.job_id,
    j.status AS final_status,
    CASE WHEN p.ended OR COALESCE(p.open_phase <> 'queued', TRUE) THEN p.queued_s END AS queued_s,
    CASE WHEN p.ended OR COALESCE(p.open_phase <> 'validating', TRUE) THEN p.validating_s END AS validating_s,
    CASE WHEN p.ended OR COALESCE(p.open_phase <> 'running', TRUE) THEN p.running_s END AS running_s,
    CASE WHEN p.ended THEN p.total_s END AS total_s,
    j.status IN ('FAILED', 'FAILED_VALIDATION') AS failed,
    j.status = 'CANCELLED' AS cancelled,
    p.late_queued OR (j.status = 'QUEUED' AND p.moved_on) AS requeued
FROM jobs AS j
LEFT JOIN per_job AS p ON p.job_id = j.job_id
ORDER BY j.job_id
