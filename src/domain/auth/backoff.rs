//! Login back-off: after a few failed passwords, further attempts on the account wait,
//! longer each time, so guessing is slow.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::infra::shared_store::SharedStore;

/// Failed logins of one account, kept in the shared store for a quarter of an hour.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct LoginBackoff {
    failures: u32,
    last_failure_ms: i64,
}

/// Failures allowed before attempts have to wait.
const FREE_FAILURES: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(300);
const FAILURE_MEMORY: Duration = Duration::from_secs(900);

impl LoginBackoff {
    fn key(email: &str) -> String {
        format!("login:{email}")
    }

    pub(super) async fn load(shared: &dyn SharedStore, email: &str) -> LoginBackoff {
        match shared.get(&Self::key(email)).await {
            Ok(Some(text)) => serde_json::from_str(&text).unwrap_or_default(),
            // An unreachable store must not lock everyone out.
            _ => LoginBackoff::default(),
        }
    }

    /// How long the next attempt must still wait, if at all.
    pub(super) fn wait(&self) -> Option<Duration> {
        if self.failures < FREE_FAILURES {
            return None;
        }
        let penalty =
            Duration::from_secs(1 << (self.failures - FREE_FAILURES).min(9)).min(MAX_WAIT);
        let since = chrono::Utc::now().timestamp_millis() - self.last_failure_ms;
        let remaining = penalty.as_millis() as i64 - since;
        (remaining > 0).then(|| Duration::from_millis(remaining as u64))
    }

    pub(super) async fn record_failure(&self, shared: &dyn SharedStore, email: &str) {
        let next = LoginBackoff {
            failures: self.failures + 1,
            last_failure_ms: chrono::Utc::now().timestamp_millis(),
        };
        if let Ok(text) = serde_json::to_string(&next) {
            let _ = shared.set(&Self::key(email), &text, FAILURE_MEMORY).await;
        }
    }

    pub(super) async fn clear(&self, shared: &dyn SharedStore, email: &str) {
        if self.failures > 0 {
            let _ = shared.delete(&Self::key(email)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_back_off_starts_after_five_failures_and_doubles() {
        let now = chrono::Utc::now().timestamp_millis();
        let fresh = LoginBackoff {
            failures: 4,
            last_failure_ms: now,
        };
        assert!(fresh.wait().is_none());
        let fifth = LoginBackoff {
            failures: 5,
            last_failure_ms: now,
        };
        assert!(fifth.wait().is_some_and(|w| w <= Duration::from_secs(1)));
        let seventh = LoginBackoff {
            failures: 7,
            last_failure_ms: now,
        };
        assert!(seventh.wait().is_some_and(|w| w > Duration::from_secs(3)));
        let long_ago = LoginBackoff {
            failures: 7,
            last_failure_ms: now - 10_000,
        };
        assert!(long_ago.wait().is_none());
        let many = LoginBackoff {
            failures: 40,
            last_failure_ms: now,
        };
        assert!(many.wait().is_some_and(|w| w <= MAX_WAIT));
    }
}
