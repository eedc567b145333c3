//! Account administration (admin only): list, create, approve, reset a password, change
//! role, activate or deactivate.
//!
//! A password an admin sets or that is generated for someone is known to more than its
//! user, so the account gets `must_change_password` until its user changes it. Resetting
//! a password, deactivating or changing a role ends the user's access tokens (see
//! [`super::auth`]); resetting and deactivating also end their sessions.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{self, Authenticator, Principal, Role, UserView};
use super::{DomainError, DomainResult};
use crate::storage::{Db, users};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(schema_with = super::schema::email)]
    pub email: String,
    #[schema(schema_with = super::schema::name_200)]
    pub full_name: String,
    pub role: Role,
    /// Generated (and returned once) when omitted.
    #[schema(schema_with = super::schema::optional_new_password)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// Generated (and returned once) when omitted.
    #[schema(schema_with = super::schema::optional_new_password)]
    pub password: Option<String>,
}

/// An account and, when it was generated, its password: shown this once, stored nowhere.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountWithPassword {
    pub user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// Creates an active account (admin API). The user must change the password.
pub async fn create(db: &Db, account: NewAccount) -> DomainResult<AccountWithPassword> {
    let generated = account.password.is_none().then(auth::generate_password);
    let password = account
        .password
        .or_else(|| generated.clone())
        .unwrap_or_default();
    let user = auth::create_user(
        db,
        &account.email,
        &account.full_name,
        &password,
        account.role,
        true,
    )
    .await?;
    Ok(AccountWithPassword {
        user,
        generated_password: generated,
    })
}

/// Approves a self-registered account: it becomes an active cashier.
pub async fn approve(db: &Db, auth: &Authenticator, user_id: i64) -> DomainResult<UserView> {
    if !users::approve(db.pool(), user_id).await? {
        let exists = users::find_by_id(db.pool(), user_id).await?.is_some();
        return Err(if exists {
            DomainError::Conflict(format!("user {user_id} is not waiting for approval"))
        } else {
            DomainError::not_found(format!("user {user_id}"))
        });
    }
    auth.forget(user_id);
    reload(db, user_id).await
}

/// Sets a user's password (given, or generated and returned once); the user must change
/// it, and every session of theirs ends.
pub async fn reset_password(
    db: &Db,
    auth: &Authenticator,
    user_id: i64,
    reset: PasswordReset,
) -> DomainResult<AccountWithPassword> {
    let generated = reset.password.is_none().then(auth::generate_password);
    let password = reset
        .password
        .or_else(|| generated.clone())
        .unwrap_or_default();
    auth::check_password_rules(&password)?;
    let hash = auth::hash_password(password).await?;
    if !users::set_password_hash(db.pool(), user_id, &hash, true).await? {
        return Err(DomainError::not_found(format!("user {user_id}")));
    }
    auth.end_all_sessions(db, user_id).await?;
    Ok(AccountWithPassword {
        user: reload(db, user_id).await?,
        generated_password: generated,
    })
}

/// The id of the account with this e-mail (the CLI names accounts by e-mail).
pub async fn id_by_email(db: &Db, email: &str) -> DomainResult<i64> {
    let email = auth::normalize_email(email)?;
    Ok(users::find_by_email(db.pool(), &email)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("user {email}")))?
        .id)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: Role,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub is_active: bool,
}

pub async fn list(db: &Db) -> DomainResult<Vec<UserView>> {
    users::list(db.pool())
        .await?
        .into_iter()
        .map(UserView::try_from)
        .collect()
}

fn not_yourself(principal: &Principal, user_id: i64) -> DomainResult<()> {
    if principal.user_id == user_id {
        return Err(DomainError::Conflict(
            "you cannot change your own role or status; ask another admin".into(),
        ));
    }
    Ok(())
}

async fn reload(db: &Db, user_id: i64) -> DomainResult<UserView> {
    users::find_by_id(db.pool(), user_id)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("user {user_id}")))?
        .try_into()
}

pub async fn change_role(
    db: &Db,
    auth: &Authenticator,
    principal: &Principal,
    user_id: i64,
    change: RoleChange,
) -> DomainResult<UserView> {
    not_yourself(principal, user_id)?;
    if !users::set_role(db.pool(), user_id, change.role.as_str()).await? {
        return Err(DomainError::not_found(format!("user {user_id}")));
    }
    auth.forget(user_id);
    reload(db, user_id).await
}

pub async fn change_status(
    db: &Db,
    auth: &Authenticator,
    principal: &Principal,
    user_id: i64,
    change: StatusChange,
) -> DomainResult<UserView> {
    not_yourself(principal, user_id)?;
    if !users::set_active(db.pool(), user_id, change.is_active).await? {
        return Err(DomainError::not_found(format!("user {user_id}")));
    }
    auth.forget(user_id);
    if !change.is_active {
        auth.end_all_sessions(db, user_id).await?;
    }
    reload(db, user_id).await
}

pub async fn profile(db: &Db, principal: &Principal) -> DomainResult<UserView> {
    reload(db, principal.user_id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    #[schema(schema_with = super::schema::name_200)]
    pub full_name: String,
}

pub async fn update_profile(
    db: &Db,
    principal: &Principal,
    update: ProfileUpdate,
) -> DomainResult<UserView> {
    let full_name = super::required_text("full_name", &update.full_name, 200)?;
    users::set_full_name(db.pool(), principal.user_id, &full_name).await?;
    reload(db, principal.user_id).await
}
