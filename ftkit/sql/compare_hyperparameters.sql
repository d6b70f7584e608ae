-- ftkit.compare_hyperparameters(varying_only=False): every job's hyperparameters.
-- Runs unchanged on DuckDB and Spark SQL.
SELECT
    job_id, learning_rate, training_steps, epochs, weight_decay, warmup_fraction, seq_len, fim_ratio
FROM jobs
ORDER BY job_id
