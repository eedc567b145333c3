-- Accounts and sessions (issue 9).
--
-- users.pending: a self-registered account waiting for an admin's approval (it is also
--   inactive until then, so every existing "is it active" check refuses it).
-- users.must_change_password: the password was generated or set by an admin.
-- users.token_version: access tokens carry it; bumping it (password change or reset,
--   deactivation, role change) ends every access token of the user.
-- sessions: one per login; every refresh token of a login belongs to its session (the
--   rotation family). Revoking the session (logout, reuse of a spent refresh token) ends
--   its refresh and access tokens; expires_at is its absolute lifetime.
-- refresh_tokens.spent_at / successor_*: a rotated token and the pair it was exchanged
--   for, kept for the grace window so that a repeated refresh gets the same pair.
ALTER TABLE users ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1));
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;

CREATE TABLE sessions (
    session_id TEXT    PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens issued before sessions existed belong to none and are refused.
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT REFERENCES sessions (session_id);
ALTER TABLE refresh_tokens ADD COLUMN spent_at INTEGER;
ALTER TABLE refresh_tokens ADD COLUMN successor_access TEXT;
ALTER TABLE refresh_tokens ADD COLUMN successor_refresh TEXT;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
