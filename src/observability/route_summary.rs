//! The JSON view of `/metrics`: per-route request counts and latency quantiles since this
//! instance started. A `metrics` recorder that keeps only the HTTP request metrics, in a
//! `metrics-util` registry: counters are atomics; latency samples are pushed into a
//! lock-free bucket per series and folded into that series' histogram at upkeep, so the
//! request path takes no lock (the registry's sharded read lock aside).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram as HdrHistogram;
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use metrics_util::registry::{Registry, Storage};
use metrics_util::storage::AtomicBucket;
use serde::Serialize;

use super::recorder::names;

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct RouteSummary {
    pub count: u64,
    pub client_errors: u64,
    pub server_errors: u64,
    pub min_ms: f64,
    pub avg_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricsSummary {
    pub total_requests: u64,
    pub total_server_errors: u64,
    pub uptime_seconds: u64,
    pub routes: BTreeMap<String, RouteSummary>,
    /// The assistant's turns, tool calls by tool and provider time.
    pub assistant: AssistantSummary,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AssistantSummary {
    pub chats: u64,
    pub tool_calls: BTreeMap<String, u64>,
    pub provider_avg_ms: f64,
    pub provider_max_ms: f64,
    #[serde(skip)]
    pub provider_total_ms: f64,
}

/// The recorder behind the JSON view.
pub(super) struct RouteSummaries {
    registry: Registry<Key, SummaryStorage>,
}

impl Default for RouteSummaries {
    fn default() -> Self {
        RouteSummaries {
            registry: Registry::new(SummaryStorage),
        }
    }
}

impl RouteSummaries {
    /// Folds the samples waiting in each series' bucket into its histogram.
    pub(super) fn fold_pending(&self) {
        self.registry
            .visit_histograms(|_, latency| latency.fold_pending());
    }

    pub(super) fn summary(&self, uptime: Duration) -> MetricsSummary {
        let mut routes: BTreeMap<String, RouteSummary> = BTreeMap::new();
        self.registry.visit_counters(|key, count| {
            let count = count.load(Ordering::Relaxed);
            let route = routes.entry(route_name(key)).or_default();
            route.count += count;
            match label(key, "status") {
                "4xx" => route.client_errors += count,
                "5xx" => route.server_errors += count,
                _ => {}
            }
        });
        self.registry.visit_histograms(|key, latency| {
            let route = routes.entry(route_name(key)).or_default();
            latency.summarise_into(route);
        });
        MetricsSummary {
            total_requests: routes.values().map(|s| s.count).sum(),
            total_server_errors: routes.values().map(|s| s.server_errors).sum(),
            uptime_seconds: uptime.as_secs(),
            routes,
            assistant: AssistantSummary::default(),
        }
    }
}

/// `GET /api/products`: the key of a route in the JSON view.
fn route_name(key: &Key) -> String {
    format!("{} {}", label(key, "method"), label(key, "route"))
}

fn label<'k>(key: &'k Key, name: &str) -> &'k str {
    key.labels()
        .find(|label| label.key() == name)
        .map_or("", |label| label.value())
}

impl Recorder for RouteSummaries {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if key.name() != names::HTTP_REQUESTS {
            return Counter::noop();
        }
        self.registry
            .get_or_create_counter(key, |count| Counter::from_arc(Arc::clone(count)))
    }

    /// Gauges are in the Prometheus text only.
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if key.name() != names::HTTP_REQUEST_DURATION {
            return Histogram::noop();
        }
        self.registry
            .get_or_create_histogram(key, |latency| Histogram::from_arc(Arc::clone(latency)))
    }
}

struct SummaryStorage;

impl Storage<Key> for SummaryStorage {
    type Counter = Arc<AtomicU64>;
    type Gauge = Arc<AtomicU64>;
    type Histogram = Arc<Latency>;

    fn counter(&self, _: &Key) -> Self::Counter {
        Arc::default()
    }

    fn gauge(&self, _: &Key) -> Self::Gauge {
        Arc::default()
    }

    fn histogram(&self, _: &Key) -> Self::Histogram {
        Arc::new(Latency::new())
    }
}

/// One route's latency: samples (seconds) wait in `pending` until folded into `folded`.
struct Latency {
    pending: AtomicBucket<f64>,
    folded: Mutex<Folded>,
}

struct Folded {
    /// Microseconds from 1 µs to 2 minutes (requests time out after 30 s by default) with
    /// 2 significant digits: quantiles within 1%, and about 20 KB per series where 3 digits
    /// took 170 KB (up to ~500 route and method pairs exist).
    micros: HdrHistogram<u64>,
    total_micros: u64,
}

const MAX_MICROS: u64 = 120_000_000;

impl Latency {
    fn new() -> Self {
        Latency {
            pending: AtomicBucket::new(),
            folded: Mutex::new(Folded {
                micros: HdrHistogram::new_with_bounds(1, MAX_MICROS, 2)
                    .expect("valid histogram bounds"),
                total_micros: 0,
            }),
        }
    }

    fn fold_pending(&self) {
        let mut folded = self.folded.lock().unwrap_or_else(|e| e.into_inner());
        self.pending.clear_with(|seconds| {
            for &s in seconds {
                let micros = ((s * 1e6).round() as u64).clamp(1, MAX_MICROS);
                folded.total_micros += micros;
                let _ = folded.micros.record(micros);
            }
        });
    }

    fn summarise_into(&self, route: &mut RouteSummary) {
        let folded = self.folded.lock().unwrap_or_else(|e| e.into_inner());
        let h = &folded.micros;
        route.min_ms = ms(h.min());
        route.avg_ms = ms(folded.total_micros / h.len().max(1));
        route.p50_ms = ms(h.value_at_quantile(0.50));
        route.p95_ms = ms(h.value_at_quantile(0.95));
        route.p99_ms = ms(h.value_at_quantile(0.99));
        route.max_ms = ms(h.max());
    }
}

impl HistogramFn for Latency {
    fn record(&self, seconds: f64) {
        self.pending.push(seconds);
    }
}

/// Milliseconds with three decimals (whole microseconds).
fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}
