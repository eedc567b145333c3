//! Login back-off: password guessing is slow, and a flood of wrong passwords from one
//! address cannot lock the owner out from another.
//!
//! Two limits, both generic-cell-rate buckets in the shared store ([`SharedStore::admit`]),
//! which decides and records an attempt in one atomic step (a Lua script in Redis, one
//! lock in process): there is no read-then-write window in which parallel guesses all see
//! "not yet limited" and all get through.
//!
//! - Per account and client address (`login:pair:{email}:{address}`): [`PAIR_FREE`]
//!   attempts at once, then one per [`PAIR_INTERVAL`]; further attempts get 429 with
//!   Retry-After *before* any password is checked. A refused attempt costs nothing, so a
//!   flood does not extend the wait. This is what stops a guesser: from one address, one
//!   guess per interval per account.
//! - Per account over all addresses (`login:account:{email}`): [`ACCOUNT_RATE`] attempts
//!   per second with bursts of [`ACCOUNT_BURST`]. Over it, an attempt is *delayed* (at most
//!   [`ACCOUNT_MAX_DELAY`]), never refused: guessers spread over many addresses are slowed,
//!   but nobody can deny the owner their login by flooding the account from elsewhere.
//!
//! Every attempt counts (the bucket cannot know the password is right before it decides),
//! so a correct login from a fresh address always passes, and one from an address that
//! just sent five wrong ones waits like a guess would. A successful login empties its
//! pair's bucket ([`forget_pair`]), so signing in often from one till costs nothing. When
//! the shared store is unreachable the limits fail open (the request rate limits and
//! Argon2's cost remain).

use std::time::Duration;

use crate::domain::{DomainError, DomainResult};
use crate::infra::shared_store::{Admission, SharedStore};

/// Attempts one (account, address) pair may make at once.
pub const PAIR_FREE: u32 = 5;
/// After those, one attempt per this long from that pair.
pub const PAIR_INTERVAL: Duration = Duration::from_secs(30);
/// The per-account limit over all addresses (only slows).
const ACCOUNT_RATE: f64 = 1.0;
const ACCOUNT_BURST: u32 = 20;
const ACCOUNT_MAX_DELAY: Duration = Duration::from_secs(2);

fn pair_key(email: &str, address: &str) -> String {
    format!("login:pair:{email}:{address}")
}

fn account_key(email: &str) -> String {
    format!("login:account:{email}")
}

/// Admits one login attempt for `email` from `address` (None when unknown: the pair
/// limit then applies to every unknown-address attempt together), or says how long to wait.
pub(super) async fn admit_attempt(
    shared: &dyn SharedStore,
    email: &str,
    address: Option<&str>,
) -> DomainResult<()> {
    let pair = pair_key(email, address.unwrap_or("unknown"));
    match shared
        .admit(&pair, 1.0 / PAIR_INTERVAL.as_secs_f64(), PAIR_FREE)
        .await
    {
        Ok(Admission::Allowed) => {}
        Ok(Admission::RetryAfter(wait)) => {
            return Err(DomainError::RateLimited {
                message: "too many login attempts for this account from this address; \
                          wait before trying again"
                    .into(),
                retry_after: wait,
            });
        }
        Err(error) => tracing::warn!(%error, "login back-off unavailable; admitting"),
    }
    match shared
        .admit(&account_key(email), ACCOUNT_RATE, ACCOUNT_BURST)
        .await
    {
        Ok(Admission::RetryAfter(wait)) => {
            tokio::time::sleep(wait.min(ACCOUNT_MAX_DELAY)).await;
        }
        Ok(Admission::Allowed) => {}
        Err(error) => tracing::warn!(%error, "login back-off unavailable; admitting"),
    }
    Ok(())
}

/// After a successful login: the pair starts afresh.
pub(super) async fn forget_pair(shared: &dyn SharedStore, email: &str, address: Option<&str>) {
    let _ = shared
        .delete(&pair_key(email, address.unwrap_or("unknown")))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::shared_store::InProcessStore;

    #[tokio::test]
    async fn a_flood_from_one_address_leaves_other_addresses_alone() {
        let store = InProcessStore::default();
        for _ in 0..PAIR_FREE {
            admit_attempt(&store, "owner@shop.id", Some("10.0.0.2"))
                .await
                .unwrap();
        }
        for _ in 0..20 {
            let refused = admit_attempt(&store, "owner@shop.id", Some("10.0.0.2")).await;
            assert!(matches!(refused, Err(DomainError::RateLimited { .. })));
        }
        admit_attempt(&store, "owner@shop.id", Some("10.0.0.3"))
            .await
            .unwrap();
        admit_attempt(&store, "other@shop.id", Some("10.0.0.2"))
            .await
            .unwrap();
        // A success (from a waiting pair, once its turn came) starts the pair afresh.
        forget_pair(&store, "owner@shop.id", Some("10.0.0.2")).await;
        admit_attempt(&store, "owner@shop.id", Some("10.0.0.2"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_account_limit_slows_but_never_refuses() {
        let store = InProcessStore::default();
        // Many addresses, one attempt each: the pair limits never bite.
        let started = std::time::Instant::now();
        for n in 0..(ACCOUNT_BURST + 1) {
            admit_attempt(&store, "owner@shop.id", Some(&format!("10.1.0.{n}")))
                .await
                .unwrap();
        }
        // The attempt over the burst waited (about one interval), and was admitted.
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(800), "{waited:?}");
        assert!(
            waited <= ACCOUNT_MAX_DELAY + Duration::from_secs(1),
            "{waited:?}"
        );
    }
}
