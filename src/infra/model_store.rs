//! Where trained model artifacts live. Writes are atomic: a reader sees a whole artifact
//! or none. Artifacts are immutable and keyed by version, so caches never go stale.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use crate::storage::{Db, StorageError, StorageResult, models};

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = StorageResult<T>> + Send + 'a>>;

pub trait ModelStore: Send + Sync {
    fn put<'a>(&'a self, key: &'a str, body: &'a str) -> StoreFuture<'a, ()>;
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>>;
    /// A short description for logs and the status page.
    fn describe(&self) -> String;
}

/// Artifacts in the database: every instance that reaches the database reads them.
pub struct DatabaseModelStore {
    db: Db,
}

impl DatabaseModelStore {
    pub fn new(db: Db) -> Self {
        DatabaseModelStore { db }
    }
}

impl ModelStore for DatabaseModelStore {
    fn put<'a>(&'a self, key: &'a str, body: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(models::put_artifact(self.db.pool(), key, body))
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(models::get_artifact(self.db.pool(), key))
    }

    fn describe(&self) -> String {
        format!("database ({})", self.db.backend().name())
    }
}

/// Artifacts as files under a directory (a shared volume when instances share a host).
/// A write goes to a temporary file that is synced and then renamed into place.
pub struct DirectoryModelStore {
    root: PathBuf,
}

impl DirectoryModelStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirectoryModelStore { root: root.into() }
    }

    fn path(&self, key: &str) -> StorageResult<PathBuf> {
        let safe = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty() && part != "." && part != ".." && !part.contains('\\')
            });
        if !safe {
            return Err(StorageError::Artifact(format!(
                "invalid artifact key {key:?}"
            )));
        }
        Ok(self.root.join(key))
    }
}

fn io_error(error: std::io::Error) -> StorageError {
    StorageError::Artifact(error.to_string())
}

impl ModelStore for DirectoryModelStore {
    fn put<'a>(&'a self, key: &'a str, body: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path(key)?;
            let body = body.to_owned();
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                use std::io::Write;
                let dir = path.parent().expect("artifact path has a parent");
                std::fs::create_dir_all(dir)?;
                let temporary = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
                let mut file = std::fs::File::create(&temporary)?;
                file.write_all(body.as_bytes())?;
                file.sync_all()?;
                std::fs::rename(&temporary, &path)?;
                // The rename itself is durable only once the directory is synced.
                std::fs::File::open(dir)?.sync_all()
            })
            .await
            .map_err(|e| StorageError::Artifact(e.to_string()))?
            .map_err(io_error)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let path = self.path(key)?;
            match tokio::fs::read_to_string(&path).await {
                Ok(body) => Ok(Some(body)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io_error(e)),
            }
        })
    }

    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn directory_store_round_trips_and_refuses_escaping_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryModelStore::new(dir.path());
        store.put("models/7/12.json", "{\"a\":1}").await.unwrap();
        assert_eq!(
            store.get("models/7/12.json").await.unwrap().as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(store.get("models/7/13.json").await.unwrap(), None);
        assert!(store.put("../escape.json", "x").await.is_err());
        assert!(store.get("models//x").await.is_err());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("models/7"))
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files are left behind");
    }
}
