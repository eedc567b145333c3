-- Nothing to do here: PostgreSQL's primary key columns are NOT NULL already. The SQLite
-- migration of the same version makes its three TEXT primary keys NOT NULL too; this file
-- keeps both migration histories at the same versions.
SELECT 1;
