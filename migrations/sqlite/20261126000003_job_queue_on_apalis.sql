-- The job queue moves to apalis, which keeps its own tables (Jobs, Workers) under its own
-- migration history (_apalis_migrations). SQLite table names ignore case, so the old
-- `jobs` table has to go before apalis creates `Jobs`.
DROP INDEX IF EXISTS jobs_ready;
DROP TABLE IF EXISTS jobs;
