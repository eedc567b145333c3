//! Account administration (admin only): list, change role, activate or deactivate.

use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{Authenticator, Principal, Role, UserView};
use super::{DomainError, DomainResult};
use crate::storage::{Db, tokens, users};

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
        tokens::revoke_all_for_user(db.pool(), user_id).await?;
    }
    reload(db, user_id).await
}

pub async fn profile(db: &Db, principal: &Principal) -> DomainResult<UserView> {
    reload(db, principal.user_id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
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
