//! Cache-aside for expensive reads, shared by all instances through the shared store.
//!
//! Invalidation never scans keys: every entry is stamped with the generations of the
//! groups it depends on when its computation started, and a write bumps a generation, which
//! makes the old entries misses (they expire by their TTL). With Redis a read fetches the
//! generations and the entry in one round trip; without it the generations are mirrored
//! from the database (see `Generations`), so other processes' writes are heard too. Entries are kept and served as JSON text, never parsed
//! on a hit. Identical misses in this process wait for one computation instead of
//! stampeding the database. When the shared store is down, reads bypass the cache.
//!
//! A little over 500 lines: about 410 of code, the rest its tests.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::changes::Group;
use crate::domain::products::Audience;
use crate::domain::{DomainError, DomainResult};
use crate::infra::shared_store::SharedStore;
use crate::storage::{Db, generations};

/// A response body as JSON text, straight from the cache or freshly serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedJson(pub String);

/// What gets cached, and for how long (the original system's TTLs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Namespace {
    ProductInfo,
    ProductList,
    ProductStats,
    Dashboard,
    Predictions,
    Recommendations,
}

impl Namespace {
    pub fn name(self) -> &'static str {
        match self {
            Namespace::ProductInfo => "product_info",
            Namespace::ProductList => "product_list",
            Namespace::ProductStats => "product_stats",
            Namespace::Dashboard => "dashboard",
            Namespace::Predictions => "predictions",
            Namespace::Recommendations => "recommendations",
        }
    }

    pub fn ttl(self) -> Duration {
        match self {
            Namespace::ProductInfo => Duration::from_secs(3600),
            Namespace::ProductList | Namespace::ProductStats => Duration::from_secs(1800),
            Namespace::Dashboard => Duration::from_secs(300),
            Namespace::Predictions | Namespace::Recommendations => Duration::from_secs(7200),
        }
    }

    /// The groups whose changes make an entry stale.
    fn groups(self) -> &'static [Group] {
        match self {
            Namespace::ProductInfo | Namespace::ProductList | Namespace::ProductStats => {
                &[Group::Catalog]
            }
            Namespace::Dashboard => &[Group::Sales, Group::Catalog],
            Namespace::Predictions | Namespace::Recommendations => {
                &[Group::Forecasts, Group::Catalog, Group::Sales]
            }
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    hits: u64,
    misses: u64,
    bypassed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamespaceStats {
    pub hits: u64,
    pub misses: u64,
    /// Reads served without the cache because the shared store was unreachable.
    pub bypassed: u64,
    pub hit_ratio: f64,
    pub ttl_seconds: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CacheStats {
    /// `redis` or `in-process`.
    pub backend: String,
    pub available: bool,
    pub hits: u64,
    pub misses: u64,
    pub hit_ratio: f64,
    /// Keys in the shared store (for Redis: the whole database).
    pub keys: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub namespaces: BTreeMap<String, NamespaceStats>,
}

/// Where the groups' generation counters live.
enum Generations {
    /// Beside the entries, in the shared store (Redis): every instance reads the same
    /// counters, in the same round trip as the entry.
    InStore,
    /// In the database, mirrored in this process: without Redis the entries live in this
    /// process's memory, and only the database hears of writes made by other processes (a
    /// worker activating models, a CLI import). [`ResponseCache::follow_other_processes`]
    /// polls it.
    InDatabase {
        db: Db,
        mirror: [AtomicI64; Group::ALL.len()],
    },
}

/// How often a process without Redis looks for other processes' writes: the longest a
/// cached answer can stay stale after such a write.
pub const GENERATION_POLL: Duration = Duration::from_secs(1);

/// Most distinct keys computed at once in this process; further misses compute without
/// coalescing rather than grow the map.
pub const MAX_IN_FLIGHT: usize = 1024;

type InFlightMap = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// A share in one key's computation lock; the last share out removes the key.
struct InFlight<'a> {
    map: &'a InFlightMap,
    key: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> InFlight<'a> {
    fn join(map: &'a InFlightMap, key: &'a str) -> Option<Self> {
        let mut in_flight = map.lock().unwrap_or_else(|e| e.into_inner());
        let lock = match in_flight.get(key) {
            Some(lock) => lock.clone(),
            None if in_flight.len() >= MAX_IN_FLIGHT => return None,
            None => in_flight.entry(key.to_owned()).or_default().clone(),
        };
        Some(InFlight { map, key, lock })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut in_flight = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // Two holders left: the map and this share. Others still waiting keep it.
        if Arc::strong_count(&self.lock) <= 2
            && in_flight
                .get(self.key)
                .is_some_and(|lock| Arc::ptr_eq(lock, &self.lock))
        {
            in_flight.remove(self.key);
        }
    }
}

pub struct ResponseCache {
    store: Arc<dyn SharedStore>,
    generations: Generations,
    counts: Mutex<BTreeMap<Namespace, Counts>>,
    /// One lock per key being computed in this process.
    in_flight: InFlightMap,
}

fn ratio(hits: u64, misses: u64) -> f64 {
    if hits + misses == 0 {
        0.0
    } else {
        ((hits as f64 / (hits + misses) as f64) * 10_000.0).round() / 10_000.0
    }
}

impl ResponseCache {
    /// A cache whose generation counters live in the shared store itself (Redis).
    pub fn in_shared_store(store: Arc<dyn SharedStore>) -> Self {
        Self::new(store, Generations::InStore)
    }

    /// A cache whose generation counters live in the database (no Redis).
    pub fn with_database_generations(store: Arc<dyn SharedStore>, db: Db) -> Self {
        let mirror = Default::default();
        Self::new(store, Generations::InDatabase { db, mirror })
    }

    fn new(store: Arc<dyn SharedStore>, generations: Generations) -> Self {
        ResponseCache {
            store,
            generations,
            counts: Mutex::default(),
            in_flight: Mutex::default(),
        }
    }

    fn count(&self, namespace: Namespace, update: impl FnOnce(&mut Counts)) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        update(counts.entry(namespace).or_default());
    }

    /// The entry's current generations and its JSON if it was computed under them; `None`
    /// when the store is unreachable.
    async fn lookup(&self, namespace: Namespace, key: &str) -> Option<(String, Option<String>)> {
        let groups = namespace.groups();
        let mut keys: Vec<String> = match &self.generations {
            Generations::InStore => groups.iter().map(|group| generation_key(*group)).collect(),
            Generations::InDatabase { .. } => Vec::new(),
        };
        keys.push(key.to_owned());
        let mut values = self.store.get_many(&keys).await.ok()?;
        let entry = values.pop().flatten();
        let generations: Vec<String> = match &self.generations {
            Generations::InStore => values
                .into_iter()
                .map(|generation| generation.unwrap_or_else(|| "0".into()))
                .collect(),
            Generations::InDatabase { mirror, .. } => groups
                .iter()
                .map(|group| mirror[*group as usize].load(Ordering::Acquire).to_string())
                .collect(),
        };
        let generations = generations.join(".");
        let fresh = entry.and_then(|entry| {
            let (stamp, json) = entry.split_once('\n')?;
            (stamp == generations).then(|| json.to_owned())
        });
        Some((generations, fresh))
    }

    /// The cached JSON for `params` as `audience` sees it, or `compute()`'s, which is then
    /// cached. The audience is part of the key: a cashier never gets an admin's answer
    /// (with cost prices), nor the reverse. `params` must be built from the validated,
    /// normalised request, never from raw client text.
    pub async fn get_or_compute<T, F>(
        &self,
        namespace: Namespace,
        audience: Audience,
        params: &str,
        compute: F,
    ) -> DomainResult<CachedJson>
    where
        T: Serialize,
        F: Future<Output = DomainResult<T>>,
    {
        let key = format!("cache:{}:{}:{params}", namespace.name(), audience.name());
        let Some((_, fresh)) = self.lookup(namespace, &key).await else {
            self.count(namespace, |c| c.bypassed += 1);
            return to_json(&compute.await?);
        };
        if let Some(json) = fresh {
            self.count(namespace, |c| c.hits += 1);
            return Ok(CachedJson(json));
        }
        // The guard takes the key out of the map when the last waiter is done, even when the
        // request is cancelled mid-way (a client hanging up), so the map holds only the keys
        // being computed right now. Past MAX_IN_FLIGHT keys, misses compute on their own.
        let Some(slot) = InFlight::join(&self.in_flight, &key) else {
            self.count(namespace, |c| c.misses += 1);
            return to_json(&compute.await?);
        };
        let _computing = slot.lock.lock().await;
        // Whoever held the lock before us may have filled the entry. The generations read
        // now stamp our result: a write during the computation makes it a miss.
        let generations = match self.lookup(namespace, &key).await {
            Some((_, Some(json))) => {
                self.count(namespace, |c| c.hits += 1);
                return Ok(CachedJson(json));
            }
            Some((generations, None)) => generations,
            None => String::new(),
        };
        self.count(namespace, |c| c.misses += 1);
        let result = compute.await.and_then(|value| to_json(&value));
        if let Ok(CachedJson(json)) = &result
            && !generations.is_empty()
            && let Err(error) = self
                .store
                .set(&key, &format!("{generations}\n{json}"), namespace.ttl())
                .await
        {
            tracing::debug!(%error, "cache write skipped");
        }
        result
    }

    /// Keys being computed in this process right now (bounded by [`MAX_IN_FLIGHT`]).
    pub fn in_flight_keys(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Makes every entry depending on these groups stale, in every process.
    pub async fn invalidate(&self, groups: &[Group]) {
        for group in groups {
            match &self.generations {
                Generations::InStore => {
                    if let Err(error) = self.store.increment(&generation_key(*group)).await {
                        // The store is down, so nothing can be read from it either; entries
                        // written before the outage expire by their TTL.
                        tracing::warn!(%error, group = group.name(), "cache invalidation failed");
                    }
                }
                Generations::InDatabase { db, mirror } => {
                    match generations::bump(db.pool(), group.name()).await {
                        Ok(generation) => {
                            mirror[*group as usize].fetch_max(generation, Ordering::AcqRel);
                        }
                        // The database is down, so the write that called this failed too,
                        // or will be retried by its caller.
                        Err(error) => {
                            tracing::warn!(%error, group = group.name(), "cache invalidation failed");
                        }
                    }
                }
            }
        }
    }

    /// Picks up the writes of other processes when the generations live in the database;
    /// returns at once when they live in the shared store (which every process shares).
    pub async fn follow_other_processes(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let Generations::InDatabase { db, mirror } = &self.generations else {
            return;
        };
        let mut ticks = tokio::time::interval(GENERATION_POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.changed() => return,
            }
            match generations::all(db.pool()).await {
                Ok(rows) => {
                    for (name, generation) in rows {
                        if let Some(group) = Group::ALL.iter().find(|g| g.name() == name) {
                            mirror[*group as usize].fetch_max(generation, Ordering::AcqRel);
                        }
                    }
                }
                Err(error) => tracing::debug!(%error, "reading cache generations failed"),
            }
        }
    }

    pub async fn available(&self) -> bool {
        self.store.ping().await.is_ok()
    }

    pub fn backend(&self) -> &'static str {
        self.store.kind()
    }

    pub async fn stats(&self) -> CacheStats {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let usage = self.store.usage().await.ok();
        let all = [
            Namespace::ProductInfo,
            Namespace::ProductList,
            Namespace::ProductStats,
            Namespace::Dashboard,
            Namespace::Predictions,
            Namespace::Recommendations,
        ];
        let namespaces: BTreeMap<String, NamespaceStats> = all
            .iter()
            .map(|ns| {
                let c = counts.get(ns).copied().unwrap_or_default();
                let stats = NamespaceStats {
                    hits: c.hits,
                    misses: c.misses,
                    bypassed: c.bypassed,
                    hit_ratio: ratio(c.hits, c.misses),
                    ttl_seconds: ns.ttl().as_secs(),
                };
                (ns.name().to_owned(), stats)
            })
            .collect();
        let hits = namespaces.values().map(|n| n.hits).sum();
        let misses = namespaces.values().map(|n| n.misses).sum();
        CacheStats {
            backend: self.store.kind().to_owned(),
            available: usage.is_some(),
            hits,
            misses,
            hit_ratio: ratio(hits, misses),
            keys: usage.map(|(keys, _)| keys),
            memory_bytes: usage.map(|(_, bytes)| bytes),
            namespaces,
        }
    }
}

fn generation_key(group: Group) -> String {
    format!("gen:{}", group.name())
}

fn to_json<T: Serialize>(value: &T) -> DomainResult<CachedJson> {
    serde_json::to_string(value)
        .map(CachedJson)
        .map_err(|e| DomainError::internal("serializing a response", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::shared_store::InProcessStore;

    #[tokio::test]
    async fn a_write_to_a_group_orphans_the_entries_that_depend_on_it() {
        let cache = ResponseCache::in_shared_store(Arc::new(InProcessStore::default()));
        let calls = std::sync::atomic::AtomicU32::new(0);
        let compute = || async {
            Ok::<_, crate::domain::DomainError>(
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
            )
        };
        let (cache_ref, compute) = (&cache, &compute);
        let read = move |namespace| async move {
            let json = cache_ref.get_or_compute(namespace, Audience::Admin, "q", compute());
            json.await.unwrap().0
        };
        assert_eq!(read(Namespace::ProductList).await, "0");
        assert_eq!(read(Namespace::ProductList).await, "0");
        assert_eq!(read(Namespace::Dashboard).await, "1");
        cache.invalidate(&[Group::Sales]).await;
        assert_eq!(read(Namespace::ProductList).await, "0");
        assert_eq!(read(Namespace::Dashboard).await, "2");
        let stats = cache.stats().await;
        assert_eq!(stats.namespaces["product_list"].hits, 2);
        assert_eq!(stats.namespaces["dashboard"].misses, 2);
    }

    #[tokio::test]
    async fn identical_concurrent_misses_compute_once() {
        let cache = ResponseCache::in_shared_store(Arc::new(InProcessStore::default()));
        let calls = std::sync::atomic::AtomicU32::new(0);
        let slow = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, crate::domain::DomainError>(7)
        };
        let misses = (0..8)
            .map(|_| cache.get_or_compute(Namespace::ProductStats, Audience::Admin, "all", slow()));
        let results = futures::future::join_all(misses).await;
        assert!(results.into_iter().all(|r| r.unwrap().0 == "7"));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn cancelled_and_finished_computations_leave_no_in_flight_keys() {
        let cache = ResponseCache::in_shared_store(Arc::new(InProcessStore::default()));
        // Distinct keys whose computations never finish, dropped (a client hanging up).
        for i in 0..100 {
            let key = i.to_string();
            let mut pending = Box::pin(cache.get_or_compute(
                Namespace::ProductList,
                Audience::Cashier,
                &key,
                std::future::pending::<DomainResult<u8>>(),
            ));
            assert!(futures::poll!(pending.as_mut()).is_pending());
            assert_eq!(cache.in_flight_keys(), 1, "computing, so in flight");
            drop(pending);
            assert_eq!(cache.in_flight_keys(), 0, "cancelled, so gone");
        }
        assert_eq!(cache.in_flight_keys(), 0);
        // Many misses held open at once: the map stops at the cap and the rest still answer.
        // Every computation waits for the release, sent once all of them have started, so
        // the count is read with all of them in flight whatever the machine's speed.
        let total = MAX_IN_FLIGHT + 50;
        let started = std::sync::atomic::AtomicUsize::new(0);
        let (release, released) = tokio::sync::watch::channel(false);
        let calls = (0..total).map(|i| {
            let (cache, started) = (&cache, &started);
            let mut released = released.clone();
            async move {
                cache
                    .get_or_compute(
                        Namespace::ProductList,
                        Audience::Admin,
                        &format!("k{i}"),
                        async move {
                            started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            released
                                .wait_for(|go| *go)
                                .await
                                .expect("the release is sent");
                            Ok::<_, DomainError>(i)
                        },
                    )
                    .await
            }
        });
        let watch = async {
            while started.load(std::sync::atomic::Ordering::SeqCst) < total {
                tokio::task::yield_now().await;
            }
            let peak = cache.in_flight_keys();
            release.send(true).unwrap();
            peak
        };
        let (results, peak) = tokio::join!(futures::future::join_all(calls), watch);
        assert_eq!(peak, MAX_IN_FLIGHT, "full, and no further");
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(cache.in_flight_keys(), 0);
    }

    #[tokio::test]
    async fn audiences_never_share_an_entry() {
        let cache = ResponseCache::in_shared_store(Arc::new(InProcessStore::default()));
        let admin = cache
            .get_or_compute(Namespace::ProductInfo, Audience::Admin, "A-1", async {
                Ok::<_, DomainError>("with cost")
            })
            .await
            .unwrap();
        let cashier = cache
            .get_or_compute(Namespace::ProductInfo, Audience::Cashier, "A-1", async {
                Ok::<_, DomainError>("without cost")
            })
            .await
            .unwrap();
        assert_eq!(admin.0, "\"with cost\"");
        assert_eq!(cashier.0, "\"without cost\"");
    }
}
