//! History import (being written).
use std::fmt;
use std::path::Path;

use super::DomainResult;
use super::progress::Progress;
use crate::storage::Db;

pub struct ImportOptions {
    pub create_products: bool,
}

pub struct ImportSummary;

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("import")
    }
}

pub async fn import_file(
    _db: &Db,
    _path: &Path,
    _options: &ImportOptions,
    _progress: &dyn Progress,
) -> DomainResult<ImportSummary> {
    Ok(ImportSummary)
}
