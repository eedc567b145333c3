//! The demo shop (being written).
use std::fmt;

use super::DomainResult;
use super::progress::{Progress, Silent};
use crate::storage::Db;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    pub days: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 42,
            days: 730,
        }
    }
}

pub struct DemoSummary;

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("demo")
    }
}

pub async fn database_is_empty(_db: &Db) -> DomainResult<bool> {
    Ok(false)
}

pub async fn seed(db: &Db, options: &DemoOptions) -> DomainResult<DemoSummary> {
    seed_with_progress(db, options, &Silent).await
}

pub async fn seed_with_progress(
    _db: &Db,
    _options: &DemoOptions,
    _progress: &dyn Progress,
) -> DomainResult<DemoSummary> {
    Ok(DemoSummary)
}
