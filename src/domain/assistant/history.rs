//! Conversations in the shared store (Redis, or this process in the embedded mode), so any
//! instance continues any conversation. Per session: its owner and title (a value) and its
//! turns (a list bounded to the newest turns). Per user: an index of their sessions by
//! last use, bounded too; sessions are listed from it, never by scanning keys. Every key
//! expires after the TTL, which each use renews.
//!
//! Keys: `chat:session:{id}` (meta), `chat:turns:{id}` (turns), `chat:user:{user_id}`
//! (index). A session id is a random UUIDv4; the meta's owner is checked on every access.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::provider::Turn;
use super::{Action, Source};
use crate::domain::{DomainError, DomainResult};
use crate::infra::shared_store::{SharedError, SharedStore};

/// A conversation's owner and what the session list shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionMeta {
    pub user_id: i64,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One stored turn with when it was said and, for answers, the figures behind them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Milliseconds since the epoch.
    pub at: i64,
    #[serde(flatten)]
    pub turn: Turn,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

/// How long and how much is kept.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub ttl: Duration,
    pub max_turns: usize,
    pub max_sessions: usize,
}

#[derive(Clone)]
pub struct History {
    store: Arc<dyn SharedStore>,
    limits: Limits,
}

fn meta_key(session: &str) -> String {
    format!("chat:session:{session}")
}

fn turns_key(session: &str) -> String {
    format!("chat:turns:{session}")
}

fn index_key(user_id: i64) -> String {
    format!("chat:user:{user_id}")
}

/// The shared store is down: the conversation cannot be read or kept.
fn unavailable(error: SharedError) -> DomainError {
    DomainError::Unavailable(format!("chat history is unavailable: {error}"))
}

impl History {
    pub fn new(store: Arc<dyn SharedStore>, limits: Limits) -> Self {
        History { store, limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The session's meta if it exists and belongs to `user_id`; otherwise not found
    /// (never "forbidden": another user's session id is not confirmed to exist).
    pub async fn owned(&self, user_id: i64, session: &str) -> DomainResult<SessionMeta> {
        let not_found = || DomainError::not_found("chat session");
        let meta = self
            .store
            .get(&meta_key(session))
            .await
            .map_err(unavailable)?
            .and_then(|text| serde_json::from_str::<SessionMeta>(&text).ok())
            .ok_or_else(not_found)?;
        if meta.user_id != user_id {
            return Err(not_found());
        }
        Ok(meta)
    }

    /// The session's turns, oldest first. Entries that no longer parse are skipped.
    pub async fn entries(&self, session: &str) -> DomainResult<Vec<Entry>> {
        let raw = self
            .store
            .list(&turns_key(session))
            .await
            .map_err(unavailable)?;
        Ok(raw
            .iter()
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect())
    }

    /// Appends turns and renews the session: meta, turns and the owner's index.
    pub async fn append(
        &self,
        session: &str,
        meta: &SessionMeta,
        entries: &[Entry],
    ) -> DomainResult<()> {
        let Limits {
            ttl,
            max_turns,
            max_sessions,
        } = self.limits;
        let meta_text = serde_json::to_string(meta)
            .map_err(|e| DomainError::internal("encoding a chat session", e))?;
        for entry in entries {
            let text = serde_json::to_string(entry)
                .map_err(|e| DomainError::internal("encoding a chat turn", e))?;
            self.store
                .push_bounded(&turns_key(session), &text, max_turns, ttl)
                .await
                .map_err(unavailable)?;
        }
        self.store
            .set(&meta_key(session), &meta_text, ttl)
            .await
            .map_err(unavailable)?;
        self.store
            .rank(
                &index_key(meta.user_id),
                session,
                // Microseconds: two turns in one millisecond still rank in order (and a
                // double holds them exactly in Redis).
                chrono::Utc::now().timestamp_micros(),
                max_sessions,
                ttl,
            )
            .await
            .map_err(unavailable)
    }

    /// Renews a session read by its owner.
    pub async fn touch(&self, user_id: i64, session: &str) -> DomainResult<()> {
        let ttl = self.limits.ttl;
        for key in [meta_key(session), turns_key(session), index_key(user_id)] {
            self.store.expire(&key, ttl).await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// The user's sessions, most recently used first. Sessions that expired or fell out
    /// are dropped from the index as they are found.
    pub async fn sessions(&self, user_id: i64) -> DomainResult<Vec<(String, SessionMeta)>> {
        let index = index_key(user_id);
        let ranked = self
            .store
            .ranked(&index, self.limits.max_sessions)
            .await
            .map_err(unavailable)?;
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ranked.iter().map(|(id, _)| meta_key(id)).collect();
        let metas = self.store.get_many(&keys).await.map_err(unavailable)?;
        let mut sessions = Vec::new();
        for ((id, _), meta) in ranked.into_iter().zip(metas) {
            match meta.and_then(|text| serde_json::from_str::<SessionMeta>(&text).ok()) {
                Some(meta) if meta.user_id == user_id => sessions.push((id, meta)),
                _ => {
                    let _ = self.store.unrank(&index, &id).await;
                }
            }
        }
        Ok(sessions)
    }

    pub async fn delete(&self, user_id: i64, session: &str) -> DomainResult<()> {
        self.owned(user_id, session).await?;
        self.store
            .delete(&turns_key(session))
            .await
            .map_err(unavailable)?;
        self.store
            .delete(&meta_key(session))
            .await
            .map_err(unavailable)?;
        self.store
            .unrank(&index_key(user_id), session)
            .await
            .map_err(unavailable)
    }
}
