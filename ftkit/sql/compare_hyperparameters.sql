-- ftkit.compare_hyperparameters(varying_only=False): every job's hyperparameters.
-- Runs unchanged on DuckDB and Spark SQL. Both providers' columns, Mistral's then OpenAI's
-- (null on the other provider's jobs); ftkit keeps only those of the providers present.
SELECT
    job_id, learning_rate, training_steps, epochs, weight_decay, warmup_fraction, seq_len, fim_ratio,
    n_epochs, batch_size, learning_rate_multiplier
FROM jobs
ORDER BY job_id
