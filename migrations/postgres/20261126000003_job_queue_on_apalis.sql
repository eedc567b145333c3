-- The job queue moves to apalis, which keeps its own tables in the `apalis` schema under
-- its own migration history (apalis._sqlx_migrations).
DROP TABLE IF EXISTS jobs;
