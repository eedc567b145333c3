//! Accounts and tokens: Argon2id password hashes (computed off the async threads), short
//! access tokens and long refresh tokens that are recorded so they can be revoked.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod backoff;
mod passwords;

use backoff::LoginBackoff;
use passwords::{MAX_PASSWORD, hash_password_blocking, verify_password};
pub use passwords::{check_password_rules, generate_password, generate_secret, hash_password};

use super::{DomainError, DomainResult, required_text};
use crate::infra::shared_store::SharedStore;
use crate::storage::{Db, tokens, users};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    typ: TokenKind,
    jti: String,
    iat: i64,
    exp: i64,
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
    pub email: String,
    pub password: String,
    pub full_name: String,
}

/// Signs and checks tokens, hashes and verifies passwords. Built once at start-up.
#[derive(Clone)]
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
    /// Verified against when an email is unknown, so that a wrong email costs the same
    /// time as a wrong password and does not reveal which accounts exist.
    dummy_hash: String,
    principals: moka::sync::Cache<i64, Principal>,
}

/// How long an instance trusts what it last read about an account. Every authenticated
/// request needs it, and reading it each time costs a database round trip per request;
/// a role change or deactivation applies at once on the instance that made it and within
/// this time on the others.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(5);

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
            dummy_hash,
            principals: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(PRINCIPAL_TTL)
                .build(),
        })
    }

    fn sign(&self, user_id: i64, kind: TokenKind, ttl: Duration) -> DomainResult<(String, Claims)> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            typ: kind,
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::internal("signing a token", e))?;
        Ok((token, claims))
    }

    fn verify(&self, token: &str, kind: TokenKind) -> DomainResult<(i64, Claims)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| DomainError::Unauthenticated("invalid or expired token".into()))?;
        let claims = data.claims;
        if claims.typ != kind {
            return Err(DomainError::Unauthenticated("wrong kind of token".into()));
        }
        let user_id = claims
            .sub
            .parse()
            .map_err(|_| DomainError::Unauthenticated("invalid token subject".into()))?;
        Ok((user_id, claims))
    }

    async fn issue(&self, db: &Db, user_id: i64) -> DomainResult<TokenPair> {
        let (access_token, _) = self.sign(user_id, TokenKind::Access, self.access_ttl)?;
        let (refresh_token, claims) = self.sign(user_id, TokenKind::Refresh, self.refresh_ttl)?;
        tokens::insert(db.pool(), &claims.jti, user_id, claims.exp * 1000).await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: self.access_ttl.as_secs(),
        })
    }

    /// The user an access token names, if its signature and expiry hold (no database
    /// call: for rate limiting, not for authorization).
    pub fn user_id_of(&self, access_token: &str) -> Option<i64> {
        self.verify(access_token, TokenKind::Access)
            .ok()
            .map(|(id, _)| id)
    }

    /// Resolves an access token to the active user it names.
    pub async fn authenticate(&self, db: &Db, access_token: &str) -> DomainResult<Principal> {
        let (user_id, _) = self.verify(access_token, TokenKind::Access)?;
        if let Some(principal) = self.principals.get(&user_id) {
            return Ok(principal);
        }
        let user = users::find_by_id(db.pool(), user_id)
            .await?
            .filter(|u| u.is_active)
            .ok_or_else(|| {
                DomainError::Unauthenticated("account is unknown or deactivated".into())
            })?;
        let principal = Principal {
            user_id: user.id,
            role: Role::parse(&user.role)?,
            email: user.email,
        };
        self.principals.insert(user_id, principal.clone());
        Ok(principal)
    }

    /// Drops what this instance remembers about an account whose role or status changed.
    pub fn forget(&self, user_id: i64) {
        self.principals.invalidate(&user_id);
    }

    pub async fn register(&self, db: &Db, registration: Registration) -> DomainResult<UserView> {
        let email = normalize_email(&registration.email)?;
        let full_name = required_text("full_name", &registration.full_name, 200)?;
        check_password_rules(&registration.password)?;
        let hash = hash_password(registration.password).await?;
        let mut tx = db.begin_write().await?;
        // The first account of a fresh installation runs the shop.
        let role = if users::count(tx.conn()).await? == 0 {
            Role::Admin
        } else {
            Role::Cashier
        };
        let user = users::NewUser {
            email: &email,
            password_hash: &hash,
            full_name: &full_name,
            role: role.as_str(),
        };
        let row = match users::insert(tx.conn(), &user).await {
            Err(e) if e.is_unique_violation() => {
                return Err(DomainError::Conflict(
                    "an account with this email exists".into(),
                ));
            }
            other => other?,
        };
        tx.commit()
            .await
            .map_err(crate::storage::StorageError::from)?;
        row.try_into()
    }

    /// Checks credentials. After a few failures for one account, further attempts must
    /// wait (doubling each time), whichever instance they reach.
    pub async fn login(
        &self,
        db: &Db,
        shared: &dyn SharedStore,
        email: &str,
        password: &str,
    ) -> DomainResult<LoginResult> {
        let invalid = || DomainError::Unauthenticated("invalid email or password".into());
        let email = email.trim().to_lowercase();
        let backoff = LoginBackoff::load(shared, &email).await;
        if let Some(wait) = backoff.wait() {
            return Err(DomainError::RateLimited {
                message: "too many failed logins for this account; wait before trying again".into(),
                retry_after: wait,
            });
        }
        if password.len() > MAX_PASSWORD {
            backoff.record_failure(shared, &email).await;
            return Err(invalid());
        }
        let user = users::find_by_email(db.pool(), &email).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| self.dummy_hash.clone());
        let password_ok = verify_password(password.to_owned(), hash).await?;
        let user = match user {
            Some(user) if password_ok && user.is_active => user,
            _ => {
                backoff.record_failure(shared, &email).await;
                return Err(invalid());
            }
        };
        backoff.clear(shared, &email).await;
        let tokens = self.issue(db, user.id).await?;
        Ok(LoginResult {
            tokens,
            user: user.try_into()?,
        })
    }

    /// Exchanges a refresh token for a new pair; the old refresh token is spent.
    pub async fn refresh(&self, db: &Db, refresh_token: &str) -> DomainResult<TokenPair> {
        let (user_id, claims) = self.verify(refresh_token, TokenKind::Refresh)?;
        if !tokens::revoke(db.pool(), &claims.jti, user_id).await? {
            return Err(DomainError::Unauthenticated(
                "refresh token was revoked".into(),
            ));
        }
        let active = users::find_by_id(db.pool(), user_id)
            .await?
            .is_some_and(|u| u.is_active);
        if !active {
            return Err(DomainError::Unauthenticated(
                "account is unknown or deactivated".into(),
            ));
        }
        self.issue(db, user_id).await
    }

    pub async fn logout(&self, db: &Db, refresh_token: &str) -> DomainResult<()> {
        let (user_id, claims) = self.verify(refresh_token, TokenKind::Refresh)?;
        // Logging out twice is not an error: the token is revoked either way.
        tokens::revoke(db.pool(), &claims.jti, user_id).await?;
        Ok(())
    }

    pub async fn change_password(
        &self,
        db: &Db,
        principal: &Principal,
        current: &str,
        new: &str,
    ) -> DomainResult<()> {
        let user = users::find_by_id(db.pool(), principal.user_id)
            .await?
            .ok_or_else(|| DomainError::not_found("user"))?;
        if current.len() > MAX_PASSWORD
            || !verify_password(current.to_owned(), user.password_hash).await?
        {
            return Err(DomainError::Unauthenticated(
                "current password is wrong".into(),
            ));
        }
        check_password_rules(new)?;
        let hash = hash_password(new.to_owned()).await?;
        users::set_password_hash(db.pool(), user.id, &hash).await?;
        // Sessions elsewhere may belong to whoever knew the old password.
        tokens::revoke_all_for_user(db.pool(), user.id).await?;
        Ok(())
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
    create_user(db, email, "Shop owner", &password, Role::Admin).await?;
    Ok(generated)
}

/// Creates an account with a given role (the `user create` command).
pub async fn create_user(
    db: &Db,
    email: &str,
    full_name: &str,
    password: &str,
    role: Role,
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

    #[test]
    fn tokens_round_trip_and_kinds_do_not_mix() {
        let auth = Authenticator::new(
            &[7u8; 32],
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
        .unwrap();
        let (access, _) = auth.sign(42, TokenKind::Access, auth.access_ttl).unwrap();
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
