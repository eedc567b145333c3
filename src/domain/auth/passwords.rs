//! Passwords: the rules a new one must meet, Argon2id hashing (off the async threads),
//! and generated passwords and secrets.
//!
//! Argon2id costs about 19 MiB and tens of milliseconds of one core per hash. Unbounded, a
//! burst of logins would queue that many hashes on the blocking pool (up to 512 threads)
//! and take the memory and every core from the rest of the API. So at most one hash per
//! core runs at a time ([`hashing_limit`]); further callers wait their turn in order
//! (tokio's semaphore is fair), and the request rate limits bound how many can wait.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::domain::{DomainError, DomainResult};

/// How many Argon2 computations may run at once: the cores this process may use.
pub fn hashing_limit() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(hashing_limit()));
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most Argon2 computations this process has run at once (for tests and metrics).
pub fn hashing_peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Runs one Argon2 computation on the blocking pool once a slot is free.
async fn bounded<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> DomainResult<T> + Send + 'static,
) -> DomainResult<T> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| DomainError::internal(what, e))?;
    tokio::task::spawn_blocking(move || {
        let running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(running, Ordering::SeqCst);
        let result = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        result
    })
    .await
    .map_err(|e| DomainError::internal(what, e))?
}

const MIN_PASSWORD: usize = 8;
pub(super) const MAX_PASSWORD: usize = 128;

pub fn check_password_rules(password: &str) -> DomainResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD {
        return Err(DomainError::validation(format!(
            "password must be at least {MIN_PASSWORD} characters"
        )));
    }
    if password.len() > MAX_PASSWORD {
        return Err(DomainError::validation(format!(
            "password must be at most {MAX_PASSWORD} bytes"
        )));
    }
    Ok(())
}

pub(super) fn hash_password_blocking(password: &str) -> DomainResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::internal("hashing a password", e.to_string()))
}

/// Argon2id is deliberately slow; it runs on the blocking pool, not on the async threads,
/// one per core at most.
pub async fn hash_password(password: String) -> DomainResult<String> {
    bounded("password hashing task", move || {
        hash_password_blocking(&password)
    })
    .await
}

pub(super) async fn verify_password(password: String, hash: String) -> DomainResult<bool> {
    bounded("password check task", move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| DomainError::internal("stored password hash is invalid", e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

pub fn generate_password() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// A fresh random secret for signing tokens in the embedded mode.
pub fn generate_secret() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(check_password_rules("short").is_err());
        assert!(check_password_rules("long enough").is_ok());
        assert!(check_password_rules(&"x".repeat(200)).is_err());
    }

    /// Many hashes at once all complete, and never more than one per core runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_hashes_queue_for_the_cores() {
        let calls: Vec<_> = (0..(hashing_limit() * 3 + 2))
            .map(|i| tokio::spawn(hash_password(format!("password-{i}"))))
            .collect();
        for call in calls {
            assert!(call.await.unwrap().unwrap().starts_with("$argon2id$"));
        }
        assert!(hashing_peak() >= 1);
        assert!(
            hashing_peak() <= hashing_limit(),
            "{} hashes ran at once, limit {}",
            hashing_peak(),
            hashing_limit()
        );
    }
}
