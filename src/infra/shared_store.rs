//! State shared by every instance besides the database: cached values, generation
//! counters and rate-limit buckets. Redis when `REDIS_URL` is set, this process's memory
//! otherwise (the embedded mode has one process, so that is the same thing).
//!
//! Every call is bounded in time: when Redis is slow or down the caller gets an error
//! quickly and decides (a cache miss, a limit that fails open).
//!
//! Long for one file (about 500 lines of code, 150 of tests) because the two backends
//! must behave alike (expiry, caps, the rate-limit cell algorithm in Rust and in Lua) and
//! are easiest to keep alike side by side.

use std::collections::{HashMap, VecDeque};
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
    #[error("the in-process store holds its maximum of counters")]
    Full,
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
    /// Appends `value` to the list at `key`, keeps only its newest `max_len` entries and
    /// (re)sets the list's time to live: a bounded log (a chat history) in one atomic step.
    fn push_bounded<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        max_len: usize,
        ttl: Duration,
    ) -> SharedFuture<'a, ()>;
    /// The list at `key`, oldest first (empty when absent). Lists are only written by
    /// [`SharedStore::push_bounded`], so the answer is bounded too.
    fn list<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Vec<String>>;
    /// Sets `member`'s score in the ranked index at `key`, keeps only the `max_members`
    /// highest-scored members and (re)sets the index's time to live. An index (a user's
    /// chat sessions by last use) is how related keys are found without scanning keys.
    fn rank<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        score: i64,
        max_members: usize,
        ttl: Duration,
    ) -> SharedFuture<'a, ()>;
    /// At most `limit` members of the index at `key`, highest score first.
    fn ranked<'a>(&'a self, key: &'a str, limit: usize) -> SharedFuture<'a, Vec<(String, i64)>>;
    /// Removes `member` from the index at `key`.
    fn unrank<'a>(&'a self, key: &'a str, member: &'a str) -> SharedFuture<'a, ()>;
    /// (Re)sets the time to live of a value, list or index; absent keys stay absent.
    fn expire<'a>(&'a self, key: &'a str, ttl: Duration) -> SharedFuture<'a, ()>;
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

fn ttl_millis(ttl: Duration) -> u64 {
    ttl.as_millis().clamp(1, u64::MAX as u128) as u64
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
        format!("{}{}", self.prefix, bounded_key(key))
    }

    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, SharedError> {
        let mut connection = self.connection().await?;
        let result = tokio::time::timeout(self.timeout, command.query_async::<T>(&mut connection))
            .await
            .map_err(|_| SharedError::Timeout)
            .and_then(|answer| answer.map_err(SharedError::from));
        self.note(result)
    }

    /// Runs a pipeline (a MULTI/EXEC transaction when built with `atomic()`), bounded in
    /// time like every other call.
    async fn run_pipe(&self, pipe: redis::Pipeline) -> Result<(), SharedError> {
        let mut connection = self.connection().await?;
        let result = tokio::time::timeout(self.timeout, pipe.query_async::<()>(&mut connection))
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

    fn push_bounded<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        max_len: usize,
        ttl: Duration,
    ) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = self.key(key);
            let keep = max_len.max(1) as i64;
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("RPUSH")
                .arg(&key)
                .arg(value)
                .ignore()
                .cmd("LTRIM")
                .arg(&key)
                .arg(-keep)
                .arg(-1)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(ttl_millis(ttl))
                .ignore();
            self.run_pipe(pipe).await
        })
    }

    fn list<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Vec<String>> {
        Box::pin(async move {
            self.run(
                redis::cmd("LRANGE")
                    .arg(self.key(key))
                    .arg(0)
                    .arg(-1)
                    .clone(),
            )
            .await
        })
    }

    fn rank<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        score: i64,
        max_members: usize,
        ttl: Duration,
    ) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = self.key(key);
            // Ranks 0..=-(max+1) are the lowest scores beyond the newest `max_members`.
            let drop_through = -(max_members.max(1) as i64) - 1;
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("ZADD")
                .arg(&key)
                .arg(score)
                .arg(member)
                .ignore()
                .cmd("ZREMRANGEBYRANK")
                .arg(&key)
                .arg(0)
                .arg(drop_through)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(ttl_millis(ttl))
                .ignore();
            self.run_pipe(pipe).await
        })
    }

    fn ranked<'a>(&'a self, key: &'a str, limit: usize) -> SharedFuture<'a, Vec<(String, i64)>> {
        Box::pin(async move {
            if limit == 0 {
                return Ok(Vec::new());
            }
            let flat: Vec<(String, f64)> = self
                .run(
                    redis::cmd("ZREVRANGE")
                        .arg(self.key(key))
                        .arg(0)
                        .arg(limit as i64 - 1)
                        .arg("WITHSCORES")
                        .clone(),
                )
                .await?;
            Ok(flat.into_iter().map(|(m, s)| (m, s as i64)).collect())
        })
    }

    fn unrank<'a>(&'a self, key: &'a str, member: &'a str) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let _: i64 = self
                .run(redis::cmd("ZREM").arg(self.key(key)).arg(member).clone())
                .await?;
            Ok(())
        })
    }

    fn expire<'a>(&'a self, key: &'a str, ttl: Duration) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let _: i64 = self
                .run(
                    redis::cmd("PEXPIRE")
                        .arg(self.key(key))
                        .arg(ttl_millis(ttl))
                        .clone(),
                )
                .await?;
            Ok(())
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

/// This process's memory: values with their expiry, counters, rate-limit cells. Each map
/// has a hard cap ([`Caps`]): a full map first drops what has expired, then the entries
/// closest to expiry (for entries written with one TTL, the oldest), a tenth of the cap at
/// a time so that the sweep's cost is spread over many writes. Response-cache entries
/// (`cache:` keys) go before anything else, so a flood of cacheable reads cannot push out
/// a login back-off record. Generation counters are never evicted: losing one could make
/// stale answers fresh again; past their cap, new counters are refused.
pub struct InProcessStore {
    values: Mutex<HashMap<String, (Instant, String)>>,
    counters: Mutex<HashMap<String, i64>>,
    /// Theoretical arrival time per rate-limit key.
    cells: Mutex<HashMap<String, Instant>>,
    /// Bounded lists (chat histories), with their expiry.
    lists: Mutex<HashMap<String, (Instant, VecDeque<String>)>>,
    /// Ranked indexes (a user's chat sessions): member and score, with their expiry.
    indexes: Mutex<HashMap<String, (Instant, Ranked)>>,
    caps: Caps,
}

/// A ranked index's members and scores, highest first.
type Ranked = Vec<(String, i64)>;

/// Most entries each map of an [`InProcessStore`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub values: usize,
    pub counters: usize,
    pub cells: usize,
    /// Lists and ranked indexes, each (every one is bounded in length by its writer).
    pub collections: usize,
}

impl Caps {
    /// Cached answers are a few KB each: 50 000 of them stay within a few hundred MB even
    /// for the largest pages, and far above what a shop's real traffic fills. A cell is
    /// under 100 bytes.
    pub const DEFAULT: Caps = Caps {
        values: 50_000,
        counters: 1_000,
        cells: 100_000,
        collections: 20_000,
    };
}

impl Default for InProcessStore {
    fn default() -> Self {
        Self::with_caps(Caps::DEFAULT)
    }
}

/// Keys of disposable entries, evicted first.
const DISPOSABLE_PREFIX: &str = "cache:";

/// Frees room for one more entry in `map` (holding at most `cap`) if it is full.
fn make_room<V>(
    map: &mut HashMap<String, V>,
    cap: usize,
    now: Instant,
    expiry: impl Fn(&V) -> Instant,
) {
    if map.len() < cap {
        return;
    }
    map.retain(|_, v| expiry(v) > now);
    if map.len() < cap {
        return;
    }
    let batch = (cap / 10).max(1);
    for disposable_only in [true, false] {
        let mut expiries: Vec<Instant> = map
            .iter()
            .filter(|(k, _)| !disposable_only || k.starts_with(DISPOSABLE_PREFIX))
            .map(|(_, v)| expiry(v))
            .collect();
        let wanted = (map.len() + 1).saturating_sub(cap).max(batch);
        if expiries.is_empty() {
            continue;
        }
        let count = wanted.min(expiries.len());
        let (_, cutoff, _) = expiries.select_nth_unstable(count - 1);
        let cutoff = *cutoff;
        let mut left = count;
        map.retain(|k, v| {
            let candidate = !disposable_only || k.starts_with(DISPOSABLE_PREFIX);
            if left > 0 && candidate && expiry(v) <= cutoff {
                left -= 1;
                false
            } else {
                true
            }
        });
        if map.len() < cap {
            return;
        }
    }
}

impl InProcessStore {
    pub fn with_caps(caps: Caps) -> Self {
        InProcessStore {
            values: Mutex::default(),
            counters: Mutex::default(),
            cells: Mutex::default(),
            lists: Mutex::default(),
            indexes: Mutex::default(),
            caps,
        }
    }

    /// Entries held now: values, counters, rate-limit cells.
    pub fn entry_counts(&self) -> (usize, usize, usize) {
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner()).len();
        let counters = self
            .counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len();
        let cells = self.cells.lock().unwrap_or_else(|e| e.into_inner()).len();
        (values, counters, cells)
    }

    fn read(&self, key: &str) -> Option<String> {
        let key = bounded_key(key);
        let found = unexpired(&self.values.lock().unwrap_or_else(|e| e.into_inner()), &key);
        found.or_else(|| {
            self.counters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(key.as_ref())
                .map(i64::to_string)
        })
    }
}

/// Longest key stored as given; longer ones (which only client text could make) are
/// replaced by a digest, so no key costs more than this whatever the client sends.
pub const MAX_KEY_BYTES: usize = 200;

/// `key`, or for a key over [`MAX_KEY_BYTES`], its first bytes and a SHA-256 digest of all
/// of it: still one key per distinct input, of bounded size. Every backend applies it.
pub fn bounded_key(key: &str) -> std::borrow::Cow<'_, str> {
    use sha2::{Digest, Sha256};
    if key.len() <= MAX_KEY_BYTES {
        return key.into();
    }
    let mut head = 64;
    while !key.is_char_boundary(head) {
        head -= 1;
    }
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}#{hex}", &key[..head]).into()
}

fn unexpired(values: &HashMap<String, (Instant, String)>, key: &str) -> Option<String> {
    values
        .get(key)
        .filter(|(expires, _)| *expires > Instant::now())
        .map(|(_, value)| value.clone())
}

impl SharedStore for InProcessStore {
    fn get<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<String>> {
        Box::pin(async move { Ok(self.read(key)) })
    }

    fn get_many<'a>(&'a self, keys: &'a [String]) -> SharedFuture<'a, Vec<Option<String>>> {
        Box::pin(async move { Ok(keys.iter().map(|key| self.read(key)).collect()) })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = bounded_key(key).into_owned();
            let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if !values.contains_key(&key) {
                make_room(&mut values, self.caps.values, now, |(expires, _)| *expires);
            }
            values.insert(key, (now + ttl, value.to_owned()));
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = bounded_key(key);
            self.values
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key.as_ref());
            self.counters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key.as_ref());
            // As in Redis, where a rate-limit cell is a key like any other.
            self.cells
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key.as_ref());
            self.lists
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key.as_ref());
            self.indexes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key.as_ref());
            Ok(())
        })
    }

    fn increment<'a>(&'a self, key: &'a str) -> SharedFuture<'a, i64> {
        Box::pin(async move {
            let key = bounded_key(key).into_owned();
            let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            if !counters.contains_key(&key) && counters.len() >= self.caps.counters {
                return Err(SharedError::Full);
            }
            let counter = counters.entry(key).or_insert(0);
            *counter += 1;
            Ok(*counter)
        })
    }

    fn admit<'a>(&'a self, key: &'a str, rate: f64, burst: u32) -> SharedFuture<'a, Admission> {
        Box::pin(async move {
            let key = bounded_key(key);
            let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
            let allowance = interval * burst.max(1);
            let now = Instant::now();
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            let tat = cells
                .get(key.as_ref())
                .copied()
                .filter(|t| *t > now)
                .unwrap_or(now);
            let new_tat = tat + interval;
            let ahead = new_tat - now;
            if ahead > allowance {
                return Ok(Admission::RetryAfter(ahead - allowance));
            }
            if !cells.contains_key(key.as_ref()) {
                // A cell past its arrival time is a full bucket, the same as no cell.
                make_room(&mut cells, self.caps.cells, now, |tat| *tat);
            }
            cells.insert(key.into_owned(), new_tat);
            Ok(Admission::Allowed)
        })
    }

    fn push_bounded<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        max_len: usize,
        ttl: Duration,
    ) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = bounded_key(key).into_owned();
            let now = Instant::now();
            let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
            let live = lists.get(&key).is_some_and(|(expires, _)| *expires > now);
            if !live {
                lists.remove(&key);
                make_room(&mut lists, self.caps.collections, now, |(expires, _)| {
                    *expires
                });
            }
            let (expires, items) = lists.entry(key).or_insert_with(|| (now, VecDeque::new()));
            items.push_back(value.to_owned());
            while items.len() > max_len.max(1) {
                items.pop_front();
            }
            *expires = now + ttl;
            Ok(())
        })
    }

    fn list<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Vec<String>> {
        Box::pin(async move {
            let key = bounded_key(key);
            let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
            Ok(lists
                .get(key.as_ref())
                .filter(|(expires, _)| *expires > Instant::now())
                .map(|(_, items)| items.iter().cloned().collect())
                .unwrap_or_default())
        })
    }

    fn rank<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        score: i64,
        max_members: usize,
        ttl: Duration,
    ) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = bounded_key(key).into_owned();
            let now = Instant::now();
            let mut indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
            let live = indexes.get(&key).is_some_and(|(expires, _)| *expires > now);
            if !live {
                indexes.remove(&key);
                make_room(&mut indexes, self.caps.collections, now, |(expires, _)| {
                    *expires
                });
            }
            let (expires, members) = indexes.entry(key).or_insert_with(|| (now, Vec::new()));
            members.retain(|(m, _)| m != member);
            members.push((member.to_owned(), score));
            // Highest score first, as Redis ranks them (ties by member, descending).
            members.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
            members.truncate(max_members.max(1));
            *expires = now + ttl;
            Ok(())
        })
    }

    fn ranked<'a>(&'a self, key: &'a str, limit: usize) -> SharedFuture<'a, Vec<(String, i64)>> {
        Box::pin(async move {
            let key = bounded_key(key);
            let indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
            Ok(indexes
                .get(key.as_ref())
                .filter(|(expires, _)| *expires > Instant::now())
                .map(|(_, members)| members.iter().take(limit).cloned().collect())
                .unwrap_or_default())
        })
    }

    fn unrank<'a>(&'a self, key: &'a str, member: &'a str) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = bounded_key(key);
            let mut indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, members)) = indexes.get_mut(key.as_ref()) {
                members.retain(|(m, _)| m != member);
            }
            Ok(())
        })
    }

    fn expire<'a>(&'a self, key: &'a str, ttl: Duration) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let key = bounded_key(key);
            let now = Instant::now();
            let deadline = now + ttl;
            let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((expires, _)) = values.get_mut(key.as_ref()).filter(|(e, _)| *e > now) {
                *expires = deadline;
            }
            drop(values);
            let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((expires, _)) = lists.get_mut(key.as_ref()).filter(|(e, _)| *e > now) {
                *expires = deadline;
            }
            drop(lists);
            let mut indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((expires, _)) = indexes.get_mut(key.as_ref()).filter(|(e, _)| *e > now) {
                *expires = deadline;
            }
            Ok(())
        })
    }

    fn usage(&self) -> SharedFuture<'_, (u64, u64)> {
        Box::pin(async move {
            let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            let bytes: usize = values
                .iter()
                .map(|(k, (_, v))| k.len() + v.len())
                .sum::<usize>()
                + counters.keys().map(|k| k.len() + 8).sum::<usize>();
            Ok(((values.len() + counters.len()) as u64, bytes as u64))
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

    const SMALL: Caps = Caps {
        values: 100,
        counters: 5,
        cells: 100,
        collections: 10,
    };

    #[tokio::test]
    async fn a_flood_of_values_stays_under_the_cap_and_spares_non_cache_entries() {
        let store = InProcessStore::with_caps(SMALL);
        store
            .set("login:someone", "{}", Duration::from_secs(900))
            .await
            .unwrap();
        store.increment("gen:catalog").await.unwrap();
        for i in 0..10_000 {
            store
                .set(
                    &format!("cache:product_list:{i}"),
                    "[]",
                    Duration::from_secs(1800),
                )
                .await
                .unwrap();
            assert!(store.entry_counts().0 <= SMALL.values);
        }
        // The newest entries survive, and so do the back-off record and the counter.
        assert!(
            store
                .get("cache:product_list:9999")
                .await
                .unwrap()
                .is_some()
        );
        assert!(store.get("cache:product_list:0").await.unwrap().is_none());
        assert!(store.get("login:someone").await.unwrap().is_some());
        assert_eq!(
            store.get("gen:catalog").await.unwrap().as_deref(),
            Some("1")
        );
        // With no cache entry left to evict, the entries closest to expiry go.
        for i in 0..500 {
            store
                .set(&format!("other:{i}"), "x", Duration::from_secs(60 + i))
                .await
                .unwrap();
            assert!(store.entry_counts().0 <= SMALL.values);
        }
        assert!(store.get("other:499").await.unwrap().is_some());
        assert!(store.get("other:0").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_values_are_dropped_before_live_ones() {
        let store = InProcessStore::with_caps(SMALL);
        store
            .set("cache:keep", "1", Duration::from_secs(60))
            .await
            .unwrap();
        for i in 0..99 {
            store
                .set(&format!("cache:{i}"), "x", Duration::from_millis(1))
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        store
            .set("cache:new", "2", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(store.entry_counts().0, 2);
        assert!(store.get("cache:keep").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn rate_limit_cells_and_counters_are_capped() {
        let store = InProcessStore::with_caps(SMALL);
        for i in 0..5_000 {
            let admitted = store.admit(&format!("rl:api:ip:{i}"), 10.0, 20).await;
            assert_eq!(admitted.unwrap(), Admission::Allowed);
            assert!(store.entry_counts().2 <= SMALL.cells);
        }
        for i in 0..SMALL.counters {
            store.increment(&format!("gen:{i}")).await.unwrap();
        }
        assert!(matches!(
            store.increment("gen:one-too-many").await,
            Err(SharedError::Full)
        ));
        assert_eq!(store.increment("gen:0").await.unwrap(), 2);
        assert_eq!(store.entry_counts().1, SMALL.counters);
    }

    #[tokio::test]
    async fn long_keys_are_stored_as_a_bounded_digest() {
        let store = InProcessStore::with_caps(SMALL);
        let long = format!("login:{}@example.com", "a".repeat(100_000));
        store
            .set(&long, "v", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(store.get(&long).await.unwrap().as_deref(), Some("v"));
        let other = format!("login:{}@example.com", "a".repeat(99_999));
        assert_eq!(store.get(&other).await.unwrap(), None);
        let (_, bytes) = store.usage().await.unwrap();
        assert!(bytes <= (MAX_KEY_BYTES + 1) as u64, "{bytes} bytes");
        assert_eq!(bounded_key("short"), "short");
        assert!(bounded_key(&"é".repeat(300)).len() <= MAX_KEY_BYTES);
    }

    #[tokio::test]
    async fn in_process_lists_and_indexes_are_bounded_and_expire() {
        let store = InProcessStore::with_caps(SMALL);
        let day = Duration::from_secs(86_400);
        for i in 0..7 {
            store
                .push_bounded("chat:a", &i.to_string(), 5, day)
                .await
                .unwrap();
        }
        assert_eq!(
            store.list("chat:a").await.unwrap(),
            ["2", "3", "4", "5", "6"]
        );
        for (i, member) in ["s1", "s2", "s3", "s4"].iter().enumerate() {
            store.rank("idx", member, i as i64, 3, day).await.unwrap();
        }
        store.rank("idx", "s2", 10, 3, day).await.unwrap();
        let ranked = store.ranked("idx", 10).await.unwrap();
        let members: Vec<&str> = ranked.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(members, ["s2", "s4", "s3"]);
        store.unrank("idx", "s4").await.unwrap();
        assert_eq!(store.ranked("idx", 10).await.unwrap().len(), 2);
        store
            .expire("chat:a", Duration::from_millis(20))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(store.list("chat:a").await.unwrap().is_empty());
        // Past the cap, the lists closest to expiry make room.
        for i in 0..50 {
            store
                .push_bounded(&format!("chat:{i}"), "x", 5, day)
                .await
                .unwrap();
            assert!(store.lists.lock().unwrap().len() <= SMALL.collections);
        }
        store.delete("idx").await.unwrap();
        assert!(store.ranked("idx", 10).await.unwrap().is_empty());
    }
}
