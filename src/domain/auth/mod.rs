//! Accounts and tokens: Argon2id password hashes (computed off the async threads, one per
//! core), short access tokens and long refresh tokens that are recorded so they can be
//! revoked.
//!
//! Sessions. A login opens a session (a row in `sessions`, the refresh-token family) with
//! an absolute lifetime (`SIPREMS_SESSION_MAX_AGE`). Access tokens carry the session id
//! and the user's `token_version`; an access token is accepted while its session is live
//! and its version is the user's current one. That state is read with the user and cached
//! per instance for [`PRINCIPAL_TTL`], so logout (ends the session), a password change or
//! reset, a deactivation or a role change (bump the version, end every session) end the
//! access tokens at once on the instance that made the change and within
//! [`PRINCIPAL_TTL`] on the others.
//!
//! Refresh tokens rotate: each is spent once, atomically. Presenting a spent token again
//! within the grace window (`SIPREMS_REFRESH_GRACE`, 30 s) returns the pair it was
//! exchanged for (two tabs, a retried request); after it, or for a revoked token, it is
//! taken as a stolen token being replayed and the whole session ends. The successor
//! pair is kept in the spent token's row for that window, sealed under a key only the
//! spent token yields (see [`Authenticator::refresh`]).

use std::time::Duration;

use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod backoff;
mod passwords;
mod sealed;
mod sessions;

pub use sessions::{ENDED_SESSIONS_KEPT, SessionSweep, sweep_ended_sessions};
use sessions::{SessionState, TokenKind};

use passwords::{MAX_PASSWORD, hash_password_blocking, verify_password};
pub use passwords::{check_password_rules, generate_password, generate_secret, hash_password};

use super::{DomainError, DomainResult, required_text};
use crate::infra::shared_store::SharedStore;
use crate::storage::{Db, users};
pub use backoff::{PAIR_FREE as LOGIN_PAIR_FREE, PAIR_INTERVAL as LOGIN_PAIR_INTERVAL};
pub use passwords::{hashing_limit, hashing_peak};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Cashier,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Cashier => "cashier",
        }
    }

    fn parse(value: &str) -> DomainResult<Role> {
        match value {
            "admin" => Ok(Role::Admin),
            "cashier" => Ok(Role::Cashier),
            other => Err(DomainError::unexpected(format!(
                "unknown role {other:?} in database"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub user_id: i64,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub is_active: bool,
    /// Registered itself and waits for an admin's approval; cannot sign in until then.
    pub pending_approval: bool,
    /// The password was generated or set by an admin: the user should choose their own
    /// (`POST /api/auth/change-password`). The API works meanwhile.
    pub must_change_password: bool,
    pub created_at: String,
}

impl TryFrom<users::UserRow> for UserView {
    type Error = DomainError;

    fn try_from(row: users::UserRow) -> DomainResult<Self> {
        Ok(UserView {
            user_id: row.id,
            role: Role::parse(&row.role)?,
            email: row.email,
            full_name: row.full_name,
            is_active: row.is_active,
            pending_approval: row.pending,
            must_change_password: row.must_change_password,
            created_at: super::millis_to_rfc3339(row.created_at),
        })
    }
}

/// The user a request acts for, as the database knew them at most [`PRINCIPAL_TTL`] ago.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    /// The session (login) the request's access token belongs to.
    pub session_id: String,
}

impl Principal {
    pub fn require_admin(&self) -> DomainResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Cashier => Err(DomainError::Forbidden(
                "this action needs the admin role".into(),
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoginResult {
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub user: UserView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    #[schema(schema_with = super::schema::email)]
    pub email: String,
    #[schema(schema_with = super::schema::new_password)]
    pub password: String,
    #[schema(schema_with = super::schema::name_200)]
    pub full_name: String,
}

/// Signs and checks tokens, hashes and verifies passwords. Built once at start-up.
#[derive(Clone)]
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
    session_max_age: Duration,
    refresh_grace: Duration,
    /// Verified against when an email is unknown, so that a wrong email costs the same
    /// time as a wrong password and does not reveal which accounts exist.
    dummy_hash: String,
    /// By session id.
    sessions: moka::sync::Cache<String, SessionState>,
}

/// How long an instance trusts what it last read about an account and a session. Every
/// authenticated request needs it, and reading it each time costs a database round trip
/// per request; a logout, password change, role change or deactivation applies at once
/// on the instance that made it and within this time on the others.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(5);

fn unauthenticated(message: &str) -> DomainError {
    DomainError::Unauthenticated(message.into())
}

impl Authenticator {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> DomainResult<Self> {
        if secret.len() < 32 {
            return Err(DomainError::validation(
                "JWT_SECRET must be at least 32 bytes",
            ));
        }
        let dummy_hash = hash_password_blocking("not a real password")?;
        Ok(Authenticator {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl,
            refresh_ttl,
            session_max_age: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::from_secs(30),
            dummy_hash,
            sessions: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(PRINCIPAL_TTL)
                .support_invalidation_closures()
                .build(),
        })
    }

    /// Sets the sessions' absolute lifetime and the refresh grace window.
    pub fn with_sessions(mut self, max_age: Duration, refresh_grace: Duration) -> Self {
        self.session_max_age = max_age;
        self.refresh_grace = refresh_grace;
        self
    }

    /// The user an access token names, if its signature and expiry hold (no database
    /// call: for rate limiting, not for authorization).
    pub fn user_id_of(&self, access_token: &str) -> Option<i64> {
        self.verify(access_token, TokenKind::Access)
            .ok()
            .map(|(id, _)| id)
    }

    /// Resolves an access token to the active user it names, if its session is live and
    /// the user's tokens have not been ended since it was issued.
    pub async fn authenticate(&self, db: &Db, access_token: &str) -> DomainResult<Principal> {
        let (user_id, claims) = self.verify(access_token, TokenKind::Access)?;
        let state = match self.sessions.get(&claims.sid) {
            Some(state) => state,
            None => {
                let state = self.load_session(db, user_id, &claims.sid).await?;
                self.sessions.insert(claims.sid.clone(), state.clone());
                state
            }
        };
        if state.principal.user_id != user_id || !state.live {
            return Err(unauthenticated(
                "the session has ended or the account is deactivated",
            ));
        }
        if claims.ver != state.token_version {
            return Err(unauthenticated(
                "this token was ended (password, role or status changed); sign in again",
            ));
        }
        Ok(state.principal)
    }

    /// Drops what this instance remembers about an account whose role, status or
    /// password changed.
    pub fn forget(&self, user_id: i64) {
        // Only fails when invalidation closures are not enabled, which they are.
        let _ = self
            .sessions
            .invalidate_entries_if(move |_, state| state.principal.user_id == user_id);
    }

    /// Registers a pending account (open registration): it can do nothing until an
    /// admin approves it. The outcome is the same whether or not the e-mail is taken
    /// (nothing is created then), and so is the work done, so neither the answer nor its
    /// timing tells which addresses have accounts.
    pub async fn register(&self, db: &Db, registration: Registration) -> DomainResult<()> {
        let email = normalize_email(&registration.email)?;
        let full_name = required_text("full_name", &registration.full_name, 200)?;
        check_password_rules(&registration.password)?;
        let hash = hash_password(registration.password).await?;
        let user = users::NewUser {
            email: &email,
            password_hash: &hash,
            full_name: &full_name,
            role: Role::Cashier.as_str(),
            pending: true,
            must_change_password: false,
        };
        match users::insert(db.pool(), &user).await {
            Err(e) if e.is_unique_violation() => Ok(()),
            Err(e) => Err(e.into()),
            Ok(row) => {
                tracing::info!(
                    user_id = row.id,
                    "an account registered and awaits approval"
                );
                Ok(())
            }
        }
    }

    /// Checks credentials, within the login back-off (see `backoff`): per account and
    /// client address, and (slowing only) per account.
    pub async fn login(
        &self,
        db: &Db,
        shared: &dyn SharedStore,
        email: &str,
        password: &str,
        client_address: Option<&str>,
    ) -> DomainResult<LoginResult> {
        let invalid = || unauthenticated("invalid email or password");
        let email = email.trim().to_lowercase();
        backoff::admit_attempt(shared, &email, client_address).await?;
        if password.len() > MAX_PASSWORD {
            return Err(invalid());
        }
        let user = users::find_by_email(db.pool(), &email).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| self.dummy_hash.clone());
        let password_ok = verify_password(password.to_owned(), hash).await?;
        let user = match user {
            // Only the holder of the password learns that the account waits.
            Some(user) if password_ok && user.pending => {
                return Err(DomainError::Forbidden(
                    "this account is waiting for an admin's approval".into(),
                ));
            }
            Some(user) if password_ok && user.is_active => user,
            _ => return Err(invalid()),
        };
        backoff::forget_pair(shared, &email, client_address).await;
        let tokens = self.open_session(db, &user).await?;
        Ok(LoginResult {
            tokens,
            user: user.try_into()?,
        })
    }

    /// Changes the caller's own password; every session of theirs ends (whoever knew the
    /// old password may hold one), and a new one is opened for the caller.
    pub async fn change_password(
        &self,
        db: &Db,
        principal: &Principal,
        current: &str,
        new: &str,
    ) -> DomainResult<LoginResult> {
        let user = users::find_by_id(db.pool(), principal.user_id)
            .await?
            .ok_or_else(|| DomainError::not_found("user"))?;
        if current.len() > MAX_PASSWORD
            || !verify_password(current.to_owned(), user.password_hash).await?
        {
            return Err(unauthenticated("current password is wrong"));
        }
        check_password_rules(new)?;
        let hash = hash_password(new.to_owned()).await?;
        users::set_password_hash(db.pool(), user.id, &hash, false).await?;
        self.end_all_sessions(db, user.id).await?;
        let user = users::find_by_id(db.pool(), user.id)
            .await?
            .ok_or_else(|| DomainError::not_found("user"))?;
        let tokens = self.open_session(db, &user).await?;
        Ok(LoginResult {
            tokens,
            user: user.try_into()?,
        })
    }
}

pub fn normalize_email(email: &str) -> DomainResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(DomainError::validation(
            "email must be a valid email address",
        ));
    }
    Ok(email)
}

/// Creates the first admin on an empty database. Returns the generated password when
/// none was configured, so the caller can show it once.
pub async fn bootstrap_admin(
    db: &Db,
    email: &str,
    password: Option<&str>,
) -> DomainResult<Option<String>> {
    if users::count(db.pool()).await? > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(generate_password);
    let password = password
        .map(str::to_owned)
        .or_else(|| generated.clone())
        .unwrap_or_default();
    // A printed password has been seen by whoever reads the log: the owner replaces it.
    create_user(
        db,
        email,
        "Shop owner",
        &password,
        Role::Admin,
        generated.is_some(),
    )
    .await?;
    Ok(generated)
}

/// Creates an active account with a given role (`user create`, `POST /api/users`).
/// `must_change_password` when the password was generated or chosen by someone else.
pub async fn create_user(
    db: &Db,
    email: &str,
    full_name: &str,
    password: &str,
    role: Role,
    must_change_password: bool,
) -> DomainResult<UserView> {
    let email = normalize_email(email)?;
    let full_name = required_text("full_name", full_name, 200)?;
    check_password_rules(password)?;
    let hash = hash_password(password.to_owned()).await?;
    let user = users::NewUser {
        email: &email,
        password_hash: &hash,
        full_name: &full_name,
        role: role.as_str(),
        pending: false,
        must_change_password,
    };
    match users::insert(db.pool(), &user).await {
        Err(e) if e.is_unique_violation() => Err(DomainError::Conflict(
            "an account with this email exists".into(),
        )),
        other => other?.try_into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalize_email("  Ana@Shop.ID ").unwrap(), "ana@shop.id");
        for bad in ["", "no-at", "@shop.id", "a@nodot", "a b@shop.id", "a@.id"] {
            assert!(normalize_email(bad).is_err(), "{bad} accepted");
        }
    }
}
