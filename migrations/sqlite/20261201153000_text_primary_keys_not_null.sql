-- SQLite lets a PRIMARY KEY column hold NULL unless it is an INTEGER PRIMARY KEY or is
-- declared NOT NULL (a quirk it keeps for compatibility); PostgreSQL never does. Three TEXT
-- keys from the first migration were declared without NOT NULL, so SQLite would have taken
-- a NULL token id, secret name or artifact key where PostgreSQL refuses one (found by
-- tests/migrations.rs). SQLite cannot add NOT NULL to a column: each table is rebuilt
-- (create, copy, drop, rename), nothing references these three, and SIPREMS never wrote a
-- NULL key, so a row without one could not be read and is not copied.

CREATE TABLE refresh_tokens_rebuilt (
    token_id   TEXT    PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
INSERT INTO refresh_tokens_rebuilt (token_id, user_id, expires_at, revoked_at, created_at)
    SELECT token_id, user_id, expires_at, revoked_at, created_at
    FROM refresh_tokens WHERE token_id IS NOT NULL;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_rebuilt RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE app_secrets_rebuilt (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
INSERT INTO app_secrets_rebuilt (name, value)
    SELECT name, value FROM app_secrets WHERE name IS NOT NULL;
DROP TABLE app_secrets;
ALTER TABLE app_secrets_rebuilt RENAME TO app_secrets;

CREATE TABLE model_artifacts_rebuilt (
    artifact_key TEXT    PRIMARY KEY NOT NULL,
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
INSERT INTO model_artifacts_rebuilt (artifact_key, body, created_at)
    SELECT artifact_key, body, created_at FROM model_artifacts WHERE artifact_key IS NOT NULL;
DROP TABLE model_artifacts;
ALTER TABLE model_artifacts_rebuilt RENAME TO model_artifacts;
