//! Product categories.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::changes::{Group, Shop};
use super::{DomainError, DomainResult, millis_to_rfc3339, optional_text, required_text};
use crate::storage::{Db, categories};

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub category_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub product_count: i64,
    pub created_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[schema(schema_with = super::schema::name_100)]
    pub name: String,
    #[schema(schema_with = super::schema::optional_text_500)]
    pub description: Option<String>,
}

fn view(row: categories::CategoryRow) -> CategoryView {
    CategoryView {
        category_id: row.id,
        name: row.name,
        description: row.description,
        product_count: row.product_count,
        created_at: millis_to_rfc3339(row.created_at),
    }
}

pub async fn list(db: &Db) -> DomainResult<Vec<CategoryView>> {
    Ok(categories::list(db.pool())
        .await?
        .into_iter()
        .map(view)
        .collect())
}

async fn get(db: &Db, id: i64) -> DomainResult<CategoryView> {
    categories::find(db.pool(), id)
        .await?
        .map(view)
        .ok_or_else(|| DomainError::not_found(format!("category {id}")))
}

fn duplicate(name: &str) -> DomainError {
    DomainError::Conflict(format!("a category named {name:?} exists"))
}

pub async fn create(shop: &Shop, input: CategoryInput) -> DomainResult<CategoryView> {
    let name = required_text("name", &input.name, 100)?;
    let description = optional_text("description", input.description.as_deref(), 500)?;
    let id = match categories::insert(shop.db.pool(), &name, description.as_deref()).await {
        Err(e) if e.is_unique_violation() => return Err(duplicate(&name)),
        other => other?,
    };
    shop.changed(&[Group::Catalog]).await;
    get(&shop.db, id).await
}

pub async fn update(shop: &Shop, id: i64, input: CategoryInput) -> DomainResult<CategoryView> {
    let name = required_text("name", &input.name, 100)?;
    let description = optional_text("description", input.description.as_deref(), 500)?;
    match categories::update(shop.db.pool(), id, &name, description.as_deref()).await {
        Err(e) if e.is_unique_violation() => Err(duplicate(&name)),
        Ok(false) => Err(DomainError::not_found(format!("category {id}"))),
        other => {
            other?;
            shop.changed(&[Group::Catalog]).await;
            get(&shop.db, id).await
        }
    }
}

pub async fn delete(shop: &Shop, id: i64) -> DomainResult<()> {
    let category = get(&shop.db, id).await?;
    if category.product_count > 0 {
        return Err(DomainError::Conflict(format!(
            "category {:?} still has {} products",
            category.name, category.product_count
        )));
    }
    categories::delete(shop.db.pool(), id).await?;
    shop.changed(&[Group::Catalog]).await;
    Ok(())
}
