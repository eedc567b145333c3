//! State shared by every instance besides the database: cached values, generation
//! counters and rate-limit buckets. Redis when `REDIS_URL` is set, this process's memory
//! otherwise (the embedded mode has one process, so that is the same thing).
//!
//! Every call is bounded in time: when Redis is slow or down the caller gets an error
//! quickly and decides (a cache miss, a limit that fails open).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

pub type SharedFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SharedError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer in time")]
    Timeout,
    #[error("redis is unreachable")]
    Unreachable,
}

/// The answer of a rate limiter: allowed, or how long to wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    Allowed,
    RetryAfter(Duration),
}

pub trait SharedStore: Send + Sync {
    fn get<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<String>>;
    /// Several values in one round trip, in the order of `keys`.
    fn get_many<'a>(&'a self, keys: &'a [String]) -> SharedFuture<'a, Vec<Option<String>>>;
    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> SharedFuture<'a, ()>;
    fn delete<'a>(&'a self, key: &'a str) -> SharedFuture<'a, ()>;
    /// Adds one to a counter that never expires and returns the new value.
    fn increment<'a>(&'a self, key: &'a str) -> SharedFuture<'a, i64>;
    /// Generic cell rate algorithm: `rate` requests per second with bursts of `burst`.
    fn admit<'a>(&'a self, key: &'a str, rate: f64, burst: u32) -> SharedFuture<'a, Admission>;
    /// Number of keys and bytes used, as far as the backend can tell.
    fn usage(&self) -> SharedFuture<'_, (u64, u64)>;
    fn ping(&self) -> SharedFuture<'_, ()>;
    fn kind(&self) -> &'static str;
}

/// Redis, through a connection manager that reconnects by itself when Redis returns.
/// If Redis is down when the process starts, the first connection is retried (at most
/// once a second) by the calls that need it, so start-up never waits for Redis. After a
/// failed call, calls fail at once for [`PAUSE_AFTER_FAILURE`] instead of each waiting out
/// its timeout, so an outage does not slow every request down.
pub struct RedisStore {
    client: redis::Client,
    connection: Mutex<Option<ConnectionManager>>,
    last_attempt: Mutex<Option<Instant>>,
    failed_at: Mutex<Option<Instant>>,
    prefix: String,
    timeout: Duration,
    admit_script: redis::Script,
}

/// How long calls fail at once after a failed one; the first call after it tries Redis.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// GCRA in one atomic step, timed by Redis's own clock so instances with skewed clocks
/// share one limit. Returns {1, 0} when admitted, {0, wait_ms} when not.
const ADMIT_SCRIPT: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local over = new_tat - now - burst * interval
if over > 0 then
  return {0, math.ceil(over)}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
return {1, 0}
";

impl RedisStore {
    /// Opens the store; an unreachable Redis is not an error here (see the type's docs).
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, SharedError> {
        let store = RedisStore {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
            last_attempt: Mutex::new(None),
            failed_at: Mutex::new(None),
            prefix: prefix.to_owned(),
            timeout: Duration::from_millis(300),
            admit_script: redis::Script::new(ADMIT_SCRIPT),
        };
        if let Err(error) = store.connection().await {
            tracing::warn!(%error, "redis is unreachable; serving without it until it returns");
        }
        Ok(store)
    }

    async fn connection(&self) -> Result<ConnectionManager, SharedError> {
        let failed_at = *self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        if failed_at.is_some_and(|t| t.elapsed() < PAUSE_AFTER_FAILURE) {
            return Err(SharedError::Unreachable);
        }
        if let Some(connection) = self
            .connection
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(connection);
        }
        {
            let mut last = self.last_attempt.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
                return Err(SharedError::Unreachable);
            }
            *last = Some(Instant::now());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1);
        let connection = tokio::time::timeout(
            Duration::from_secs(2),
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| SharedError::Timeout)??;
        *self.connection.lock().unwrap_or_else(|e| e.into_inner()) = Some(connection.clone());
        Ok(connection)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, SharedError> {
        let mut connection = self.connection().await?;
        let result = tokio::time::timeout(self.timeout, command.query_async::<T>(&mut connection))
            .await
            .map_err(|_| SharedError::Timeout)
            .and_then(|answer| answer.map_err(SharedError::from));
        self.note(result)
    }

    /// Remembers whether Redis just answered, for the pause after a failure.
    fn note<T>(&self, result: Result<T, SharedError>) -> Result<T, SharedError> {
        let mut failed_at = self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        *failed_at = match &result {
            Ok(_) => None,
            Err(_) => Some(Instant::now()),
        };
        result
    }
}

impl SharedStore for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<String>> {
        Box::pin(async move { self.run(redis::cmd("GET").arg(self.key(key)).clone()).await })
    }

    fn get_many<'a>(&'a self, keys: &'a [String]) -> SharedFuture<'a, Vec<Option<String>>> {
        Box::pin(async move {
            let mut command = redis::cmd("MGET");
            for key in keys {
                command.arg(self.key(key));
            }
            self.run(command).await
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let millis = ttl.as_millis().max(1) as u64;
            self.run(
                redis::cmd("SET")
                    .arg(self.key(key))
                    .arg(value)
                    .arg("PX")
                    .arg(millis)
                    .clone(),
            )
            .await
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> SharedFuture<'a, ()> {
        Box::pin(async move { self.run(redis::cmd("DEL").arg(self.key(key)).clone()).await })
    }

    fn increment<'a>(&'a self, key: &'a str) -> SharedFuture<'a, i64> {
        Box::pin(async move {
            self.run(redis::cmd("INCR").arg(self.key(key)).clone())
                .await
        })
    }

    fn admit<'a>(&'a self, key: &'a str, rate: f64, burst: u32) -> SharedFuture<'a, Admission> {
        Box::pin(async move {
            let interval = (1000.0 / rate.max(0.001)).ceil() as u64;
            let mut invocation = self.admit_script.key(self.key(key));
            invocation.arg(interval).arg(burst.max(1));
            let mut connection = self.connection().await?;
            let answer =
                tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection))
                    .await
                    .map_err(|_| SharedError::Timeout)
                    .and_then(|answer| answer.map_err(SharedError::from));
            let (allowed, wait_ms): (i64, i64) = self.note(answer)?;
            Ok(if allowed == 1 {
                Admission::Allowed
            } else {
                Admission::RetryAfter(Duration::from_millis(wait_ms.max(1) as u64))
            })
        })
    }

    fn usage(&self) -> SharedFuture<'_, (u64, u64)> {
        Box::pin(async move {
            let keys: u64 = self.run(redis::cmd("DBSIZE")).await?;
            let info: String = self.run(redis::cmd("INFO").arg("memory").clone()).await?;
            let bytes = info
                .lines()
                .find_map(|line| line.strip_prefix("used_memory:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            Ok((keys, bytes))
        })
    }

    fn ping(&self) -> SharedFuture<'_, ()> {
        Box::pin(async move {
            let _: String = self.run(redis::cmd("PING")).await?;
            Ok(())
        })
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

/// This process's memory: values with their expiry, counters, rate-limit cells.
#[derive(Default)]
pub struct InProcessStore {
    values: Mutex<HashMap<String, (Instant, String)>>,
    /// Theoretical arrival time per rate-limit key.
    cells: Mutex<HashMap<String, Instant>>,
}

/// Above this many entries, expired ones are swept on the next write.
const SWEEP_AT: usize = 10_000;

fn unexpired(values: &HashMap<String, (Instant, String)>, key: &str) -> Option<String> {
    values
        .get(key)
        .filter(|(expires, _)| *expires > Instant::now())
        .map(|(_, value)| value.clone())
}

impl SharedStore for InProcessStore {
    fn get<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<String>> {
        Box::pin(async move {
            let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            Ok(unexpired(&values, key))
        })
    }

    fn get_many<'a>(&'a self, keys: &'a [String]) -> SharedFuture<'a, Vec<Option<String>>> {
        Box::pin(async move {
            let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            Ok(keys.iter().map(|key| unexpired(&values, key)).collect())
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if values.len() >= SWEEP_AT {
                values.retain(|_, (expires, _)| *expires > now);
            }
            values.insert(key.to_owned(), (now + ttl, value.to_owned()));
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            self.values
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key);
            // As in Redis, where a rate-limit cell is a key like any other.
            self.cells
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key);
            Ok(())
        })
    }

    fn increment<'a>(&'a self, key: &'a str) -> SharedFuture<'a, i64> {
        Box::pin(async move {
            // Counters share the value map (as in Redis) so `get` reads them too.
            let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            let never = Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
            let entry = values
                .entry(key.to_owned())
                .or_insert((never, "0".to_owned()));
            let next = entry.1.parse::<i64>().unwrap_or(0) + 1;
            *entry = (never, next.to_string());
            Ok(next)
        })
    }

    fn admit<'a>(&'a self, key: &'a str, rate: f64, burst: u32) -> SharedFuture<'a, Admission> {
        Box::pin(async move {
            let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
            let allowance = interval * burst.max(1);
            let now = Instant::now();
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            if cells.len() >= SWEEP_AT {
                cells.retain(|_, tat| *tat > now);
            }
            let tat = cells.get(key).copied().filter(|t| *t > now).unwrap_or(now);
            let new_tat = tat + interval;
            let ahead = new_tat - now;
            if ahead > allowance {
                return Ok(Admission::RetryAfter(ahead - allowance));
            }
            cells.insert(key.to_owned(), new_tat);
            Ok(Admission::Allowed)
        })
    }

    fn usage(&self) -> SharedFuture<'_, (u64, u64)> {
        Box::pin(async move {
            let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            let bytes: usize = values.iter().map(|(k, (_, v))| k.len() + v.len()).sum();
            Ok((values.len() as u64, bytes as u64))
        })
    }

    fn ping(&self) -> SharedFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_values_expire_and_counters_count() {
        let store = InProcessStore::default();
        store
            .set("a", "1", Duration::from_millis(30))
            .await
            .unwrap();
        assert_eq!(store.get("a").await.unwrap().as_deref(), Some("1"));
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(store.get("a").await.unwrap(), None);
        assert_eq!(store.increment("g").await.unwrap(), 1);
        assert_eq!(store.increment("g").await.unwrap(), 2);
        assert_eq!(store.get("g").await.unwrap().as_deref(), Some("2"));
    }

    #[tokio::test]
    async fn in_process_limiter_allows_the_burst_then_the_rate() {
        let store = InProcessStore::default();
        let mut allowed = 0;
        for _ in 0..30 {
            if store.admit("k", 10.0, 20).await.unwrap() == Admission::Allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 20);
        match store.admit("k", 10.0, 20).await.unwrap() {
            Admission::RetryAfter(wait) => assert!(wait <= Duration::from_millis(100), "{wait:?}"),
            Admission::Allowed => panic!("over the burst"),
        }
        tokio::time::sleep(Duration::from_millis(210)).await;
        assert_eq!(
            store.admit("k", 10.0, 20).await.unwrap(),
            Admission::Allowed
        );
        assert_eq!(
            store.admit("other", 10.0, 20).await.unwrap(),
            Admission::Allowed
        );
    }
}
