//! Writes sent with an `Idempotency-Key` (a checkout, a stock change): a retry after a
//! lost response returns the first answer instead of doing the work twice, and the same
//! key sent with a different request is refused rather than silently answered.
//!
//! The protocol, per write: [`Idempotent::replay`] before the transaction (the common
//! retry costs one read); [`Idempotent::claim`] inside it, so the key and the work commit
//! together or not at all; [`Idempotent::complete`] stores the answer in the same
//! transaction. A claim lost to a concurrent request with the same key ends in
//! [`Idempotent::earlier_answer`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::{DomainError, DomainResult};
use crate::storage::{Db, Tx, idempotency};

pub struct Idempotent<'a> {
    user_id: i64,
    key: &'a str,
    request_hash: String,
}

pub fn check_key(key: &str) -> DomainResult<()> {
    let valid = !key.is_empty() && key.len() <= 255 && key.chars().all(|c| c.is_ascii_graphic());
    if !valid {
        return Err(DomainError::validation(
            "Idempotency-Key must be 1-255 visible ASCII characters",
        ));
    }
    Ok(())
}

impl<'a> Idempotent<'a> {
    /// `scope` names what the request acts on beyond its body (the stock endpoint's SKU),
    /// so one key cannot replay a change of another product. Keys are per user.
    pub fn new(
        user_id: i64,
        key: &'a str,
        scope: &str,
        request: &impl Serialize,
    ) -> DomainResult<Self> {
        check_key(key)?;
        let body = serde_json::to_vec(request)
            .map_err(|e| DomainError::internal("hashing an idempotent request", e))?;
        let mut hasher = Sha256::new();
        hasher.update(scope.as_bytes());
        hasher.update(&body);
        Ok(Idempotent {
            user_id,
            key,
            request_hash: format!("{:x}", hasher.finalize()),
        })
    }

    /// The stored answer of an earlier request with this key, if it finished.
    pub async fn replay<T: DeserializeOwned>(&self, db: &Db) -> DomainResult<Option<T>> {
        let Some(stored) = idempotency::find(db.pool(), self.user_id, self.key).await? else {
            return Ok(None);
        };
        if stored.request_hash != self.request_hash {
            return Err(DomainError::IdempotencyKeyReused);
        }
        match stored.response_body {
            Some(body) => serde_json::from_str(&body)
                .map(Some)
                .map_err(|e| DomainError::internal("stored response is unreadable", e)),
            None => Ok(None),
        }
    }

    /// Takes the key inside the write's transaction; false when another request has it.
    pub async fn claim(&self, tx: &mut Tx) -> DomainResult<bool> {
        Ok(idempotency::claim(tx, self.user_id, self.key, &self.request_hash).await?)
    }

    /// After a lost claim (and the caller's rollback): the winner's answer, or
    /// `IdempotencyKeyInFlight` while it is still running.
    pub async fn earlier_answer<T: DeserializeOwned>(&self, db: &Db) -> DomainResult<T> {
        self.replay(db)
            .await?
            .ok_or(DomainError::IdempotencyKeyInFlight)
    }

    pub async fn complete(&self, tx: &mut Tx, response: &impl Serialize) -> DomainResult<()> {
        let body = serde_json::to_string(response)
            .map_err(|e| DomainError::internal("storing the answer for replays", e))?;
        Ok(idempotency::complete(tx, self.user_id, self.key, &body).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded() {
        assert!(check_key("abc-123").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("has space").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
    }

    #[test]
    fn the_scope_is_part_of_the_request() {
        let body = serde_json::json!({"change": 5});
        let a = Idempotent::new(1, "k", "A-1", &body).unwrap();
        let b = Idempotent::new(1, "k", "B-2", &body).unwrap();
        assert_ne!(a.request_hash, b.request_hash);
    }
}
