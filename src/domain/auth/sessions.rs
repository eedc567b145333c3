//! Sessions and tokens: signing and checking JWTs, opening a session at login, rotating
//! refresh tokens (with the grace window for a just-spent one), ending one session or all
//! of a user's. See the module documentation of [`super`] for the rules.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::sealed;
use super::{Authenticator, Principal, Role, TokenPair, unauthenticated};
use crate::domain::{DomainError, DomainResult};
use crate::storage::{Db, StorageError, now_millis, tokens, users};

/// What an instance remembers about a session: the principal, and whether it may act.
#[derive(Debug, Clone)]
pub(super) struct SessionState {
    pub(super) principal: Principal,
    pub(super) token_version: i64,
    /// The account is active and the session neither revoked nor past its lifetime.
    pub(super) live: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Claims {
    pub(super) sub: String,
    pub(super) typ: TokenKind,
    pub(super) jti: String,
    /// The session (refresh-token family).
    pub(super) sid: String,
    /// The user's token version when issued (access tokens only check it).
    pub(super) ver: i64,
    pub(super) iat: i64,
    pub(super) exp: i64,
}

/// How long a repeated refresh waits for the racing request that spent the token to
/// record the pair it got.
const SUCCESSOR_WAIT: Duration = Duration::from_secs(3);

impl Authenticator {
    pub(super) fn sign(
        &self,
        user_id: i64,
        kind: TokenKind,
        session_id: &str,
        version: i64,
        exp: i64,
    ) -> DomainResult<(String, Claims)> {
        let claims = Claims {
            sub: user_id.to_string(),
            typ: kind,
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session_id.to_owned(),
            ver: version,
            iat: chrono::Utc::now().timestamp(),
            exp,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::internal("signing a token", e))?;
        Ok((token, claims))
    }

    pub(super) fn verify(&self, token: &str, kind: TokenKind) -> DomainResult<(i64, Claims)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| unauthenticated("invalid or expired token"))?;
        let claims = data.claims;
        if claims.typ != kind {
            return Err(unauthenticated("wrong kind of token"));
        }
        let user_id = claims
            .sub
            .parse()
            .map_err(|_| unauthenticated("invalid token subject"))?;
        Ok((user_id, claims))
    }

    /// A new pair for a session that ends (absolutely) at `session_expires_ms`.
    async fn issue(
        &self,
        db: &Db,
        user: &users::UserRow,
        session_id: &str,
        session_expires_ms: i64,
    ) -> DomainResult<TokenPair> {
        let now = chrono::Utc::now().timestamp();
        let session_end = session_expires_ms / 1000;
        let access_exp = (now + self.access_ttl.as_secs() as i64).min(session_end);
        let refresh_exp = (now + self.refresh_ttl.as_secs() as i64).min(session_end);
        let (access_token, _) = self.sign(
            user.id,
            TokenKind::Access,
            session_id,
            user.token_version,
            access_exp,
        )?;
        let (refresh_token, claims) = self.sign(
            user.id,
            TokenKind::Refresh,
            session_id,
            user.token_version,
            refresh_exp,
        )?;
        tokens::insert(
            db.pool(),
            &claims.jti,
            user.id,
            session_id,
            refresh_exp * 1000,
        )
        .await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: (access_exp - now).max(0) as u64,
        })
    }

    /// Opens a session for a user and issues its first pair.
    pub(super) async fn open_session(
        &self,
        db: &Db,
        user: &users::UserRow,
    ) -> DomainResult<TokenPair> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let expires = now_millis() + self.session_max_age.as_millis() as i64;
        tokens::insert_session(db.pool(), &session_id, user.id, expires).await?;
        self.issue(db, user, &session_id, expires).await
    }

    pub(super) async fn load_session(
        &self,
        db: &Db,
        user_id: i64,
        session_id: &str,
    ) -> DomainResult<SessionState> {
        let user = users::find_by_id(db.pool(), user_id)
            .await?
            .ok_or_else(|| unauthenticated("account is unknown or deactivated"))?;
        let session = tokens::find_session(db.pool(), session_id).await?;
        let live = user.is_active
            && !user.pending
            && session.is_some_and(|s| s.user_id == user_id && s.is_live(now_millis()));
        Ok(SessionState {
            principal: Principal {
                user_id: user.id,
                role: Role::parse(&user.role)?,
                email: user.email,
                session_id: session_id.to_owned(),
            },
            token_version: user.token_version,
            live,
        })
    }

    /// Exchanges a refresh token for a new pair; the old refresh token is spent.
    ///
    /// Presenting it again within the grace window returns the same new pair, read from
    /// the spent token's row, where it is sealed under a key derived from the spent token
    /// (see `sealed`: the database alone does not yield usable tokens) and erased once the
    /// window has passed (at the session's next refresh or its end). Presenting it later,
    /// or presenting a revoked token, ends the whole session: one of the two holders is
    /// not the user.
    pub async fn refresh(&self, db: &Db, refresh_token: &str) -> DomainResult<TokenPair> {
        let (user_id, claims) = self.verify(refresh_token, TokenKind::Refresh)?;
        let row = tokens::find(db.pool(), &claims.jti)
            .await?
            .filter(|row| row.user_id == user_id && row.session_id.as_deref() == Some(&claims.sid))
            .ok_or_else(|| unauthenticated("unknown refresh token"))?;
        let session = tokens::find_session(db.pool(), &claims.sid)
            .await?
            .filter(|s| s.user_id == user_id)
            .ok_or_else(|| unauthenticated("unknown session"))?;
        let now = now_millis();
        if session.revoked_at.is_some() {
            return Err(unauthenticated("the session has ended; sign in again"));
        }
        if session.expires_at <= now {
            return Err(unauthenticated(
                "the session reached its maximum age; sign in again",
            ));
        }
        if row.revoked_at.is_none() && tokens::spend(db.pool(), &claims.jti, user_id).await? {
            let user = users::find_by_id(db.pool(), user_id)
                .await?
                .filter(|u| u.is_active && !u.pending)
                .ok_or_else(|| unauthenticated("account is unknown or deactivated"))?;
            let pair = self
                .issue(db, &user, &claims.sid, session.expires_at)
                .await?;
            tokens::set_successor(
                db.pool(),
                &claims.jti,
                &sealed::seal(refresh_token, "access", &pair.access_token),
                &sealed::seal(refresh_token, "refresh", &pair.refresh_token),
            )
            .await?;
            let grace = self.refresh_grace.as_millis() as i64;
            tokens::forget_successors(db.pool(), &claims.sid, now - grace).await?;
            return Ok(pair);
        }
        // Spent (or revoked) already: a repeat within the grace window, or a replay.
        let grace = self.refresh_grace.as_millis() as i64;
        let deadline = tokio::time::Instant::now() + SUCCESSOR_WAIT;
        // Read again: a racing request may have spent it since the first read.
        let mut row = tokens::find(db.pool(), &claims.jti)
            .await?
            .ok_or_else(|| unauthenticated("unknown refresh token"))?;
        loop {
            let within_grace = row.revoked_at.is_none()
                && row
                    .spent_at
                    .is_some_and(|spent| now_millis() - spent <= grace);
            if !within_grace {
                break;
            }
            let successor = row
                .successor_access
                .as_deref()
                .zip(row.successor_refresh.as_deref())
                .and_then(|(access, refresh)| {
                    Some((
                        sealed::open(refresh_token, "access", access)?,
                        sealed::open(refresh_token, "refresh", refresh)?,
                    ))
                });
            if let Some((access_token, refresh_token)) = successor {
                let exp = self
                    .verify(&access_token, TokenKind::Access)
                    .map(|(_, c)| c.exp)
                    .unwrap_or(0);
                return Ok(TokenPair {
                    access_token,
                    refresh_token,
                    token_type: "Bearer",
                    expires_in: (exp - chrono::Utc::now().timestamp()).max(0) as u64,
                });
            }
            // The request that spent it is still issuing the pair.
            // Not a 401: that would make the client sign its user out.
            if tokio::time::Instant::now() >= deadline {
                return Err(DomainError::RateLimited {
                    message: "this refresh token is being rotated by another request; retry".into(),
                    retry_after: Duration::from_secs(1),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            row = tokens::find(db.pool(), &claims.jti)
                .await?
                .ok_or_else(|| unauthenticated("unknown refresh token"))?;
        }
        tracing::warn!(user_id, session = %claims.sid, "a spent refresh token was reused; ending its session");
        self.end_session(db, &claims.sid).await?;
        Err(unauthenticated(
            "refresh token was already used; the session has been ended",
        ))
    }

    async fn end_session(&self, db: &Db, session_id: &str) -> DomainResult<()> {
        tokens::revoke_session(db.pool(), session_id).await?;
        tokens::revoke_all_for_session(db.pool(), session_id).await?;
        self.sessions.invalidate(session_id);
        Ok(())
    }

    /// Ends the refresh token's session: its refresh and access tokens stop working.
    pub async fn logout(&self, db: &Db, refresh_token: &str) -> DomainResult<()> {
        let (user_id, claims) = self.verify(refresh_token, TokenKind::Refresh)?;
        // Logging out twice is not an error: the session is ended either way.
        let known = tokens::find(db.pool(), &claims.jti)
            .await?
            .is_some_and(|row| {
                row.user_id == user_id && row.session_id.as_deref() == Some(&claims.sid)
            });
        if known {
            self.end_session(db, &claims.sid).await?;
        }
        Ok(())
    }

    /// Ends every session and access token of a user (a new password, a deactivation).
    pub async fn end_all_sessions(&self, db: &Db, user_id: i64) -> DomainResult<()> {
        tokens::revoke_all_for_user(db.pool(), user_id).await?;
        self.forget(user_id);
        Ok(())
    }
}

/// How long the rows of an ended session (revoked, or past its lifetime) are kept before
/// the scheduled sweep deletes them: long enough to look into a recent sign-out or a
/// detected token reuse, short enough that each login's rows do not pile up for ever.
pub const ENDED_SESSIONS_KEPT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// What a sweep of ended sessions deleted (the job's result in `/api/tasks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionSweep {
    pub sessions_deleted: u64,
    pub refresh_tokens_deleted: u64,
}

/// Deletes the sessions that ended more than [`ENDED_SESSIONS_KEPT`] before `now_ms`,
/// with their refresh tokens. Tokens of a deleted session are refused as unknown, which
/// they were already as ended; the live sessions are untouched.
pub async fn sweep_ended_sessions(db: &Db, now_ms: i64) -> DomainResult<SessionSweep> {
    let ended_before = now_ms - ENDED_SESSIONS_KEPT.as_millis() as i64;
    let mut tx = db.begin_write().await?;
    let swept = tokens::delete_ended_sessions(&mut tx, ended_before).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(SessionSweep {
        sessions_deleted: swept.sessions,
        refresh_tokens_deleted: swept.refresh_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_kinds_do_not_mix() {
        let auth = Authenticator::new(
            &[7u8; 32],
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
        .unwrap();
        let exp = chrono::Utc::now().timestamp() + 60;
        let (access, _) = auth.sign(42, TokenKind::Access, "session", 0, exp).unwrap();
        assert_eq!(auth.verify(&access, TokenKind::Access).unwrap().0, 42);
        assert!(auth.verify(&access, TokenKind::Refresh).is_err());
        let other = Authenticator::new(
            &[8u8; 32],
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
        .unwrap();
        assert!(other.verify(&access, TokenKind::Access).is_err());
        assert!(
            Authenticator::new(b"short", Duration::from_secs(1), Duration::from_secs(1)).is_err()
        );
    }
}
