-- Forecast model versions, their artifacts, and background jobs.

CREATE TABLE model_versions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id      INTEGER NOT NULL REFERENCES products (id),
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('active', 'retired', 'rejected', 'failed')),
    trained_through TEXT,
    metrics         TEXT,
    artifact_key    TEXT,
    note            TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX model_versions_product ON model_versions (product_id, id);
-- At most one active version per product, whatever races happen.
CREATE UNIQUE INDEX model_versions_one_active ON model_versions (product_id) WHERE status = 'active';

CREATE TABLE model_artifacts (
    artifact_key TEXT PRIMARY KEY,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

-- Products whose history or events changed since their model was trained.
CREATE TABLE stale_models (
    product_id INTEGER PRIMARY KEY REFERENCES products (id),
    reason     TEXT    NOT NULL,
    marked_at  INTEGER NOT NULL
);

CREATE TABLE jobs (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 4,
    run_after   INTEGER NOT NULL,
    dedupe_key  TEXT    UNIQUE,
    result      TEXT,
    error       TEXT,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX jobs_ready ON jobs (status, run_after);
