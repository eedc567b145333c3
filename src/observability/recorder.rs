//! This instance's metrics, recorded through the `metrics` facade.
//!
//! Every [`Metrics`] owns its recorders instead of installing a process-global one: tests
//! start many apps in one process, and each app's `/metrics` must count only its own
//! requests. Code records into an app's metrics with [`Metrics::record`], inside which the
//! ordinary `metrics::counter!`/`gauge!`/`histogram!` macros reach this instance.
//!
//! Two recorders are fed at once:
//! - the Prometheus exporter's, whose handle renders the text for scrapers;
//! - a small per-route summary, which keeps the JSON view (counts and latency quantiles
//!   since the start) that existing users read.
//!
//! To add a metric: give it a name in [`names`], a description in `describe`, and record
//! it where it happens, e.g. `state.metrics.record(|| counter!(names::CHATS).increment(1))`.
//! Labels must come from a fixed set of values (never raw client input), so that the
//! number of series stays bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use super::route_summary::{MetricsSummary, RouteSummaries};

/// Metric and label names, in one place.
pub mod names {
    /// Counter: HTTP requests, by `method`, `route` and `status` (class).
    pub const HTTP_REQUESTS: &str = "siprems_http_requests_total";
    /// Histogram (seconds): HTTP request latency, by `method` and `route`.
    pub const HTTP_REQUEST_DURATION: &str = "siprems_http_request_duration_seconds";
    /// Gauge: seconds since this instance started.
    pub const UPTIME: &str = "siprems_uptime_seconds";

    /// Counter: assistant turns answered, by `provider`.
    pub const CHATS: &str = "siprems_chats_total";
    /// Counter: assistant tool calls, by `tool` (a fixed set of names).
    pub const CHAT_TOOL_CALLS: &str = "siprems_chat_tool_calls_total";
    /// Histogram (seconds): time the assistant's provider took per turn, by `provider`.
    pub const CHAT_PROVIDER_DURATION: &str = "siprems_chat_provider_duration_seconds";

    /// The `route` label of requests that matched no route.
    pub const UNMATCHED_ROUTE: &str = "unmatched";
}

/// Histogram samples wait in lock-free buckets until upkeep folds them into the quantile
/// summaries; upkeep runs at most this often (and before every render), which bounds the
/// memory the waiting samples take.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The metrics of one app instance (see the module documentation).
pub struct Metrics {
    recorder: Tee<PrometheusRecorder, Arc<RouteSummaries>>,
    prometheus: PrometheusHandle,
    summaries: Arc<RouteSummaries>,
    started: Instant,
    /// The assistant's counts for the JSON view (the Prometheus text has them as well).
    chats: std::sync::Mutex<super::route_summary::AssistantSummary>,
    /// Milliseconds after `started` when upkeep is next due.
    next_upkeep_ms: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let prometheus = PrometheusBuilder::new().build_recorder();
        let handle = prometheus.handle();
        let summaries = Arc::new(RouteSummaries::default());
        let recorder = Tee(prometheus, Arc::clone(&summaries));
        let metrics = Metrics {
            recorder,
            prometheus: handle,
            summaries,
            started: Instant::now(),
            chats: Default::default(),
            next_upkeep_ms: AtomicU64::new(UPKEEP_INTERVAL.as_millis() as u64),
        };
        metrics.record(describe);
        metrics
    }

    /// Runs `f` with this instance's recorder in place: the `metrics` macros called inside
    /// it (on this thread, not across an `.await`) record here.
    pub fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// Counts one answered request. `method` comes from a fixed set and `route` is a route
    /// template (or `None` for no route), so the label values are bounded.
    pub fn record_request(
        &self,
        method: &'static str,
        route: Option<&str>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let route = route.unwrap_or(names::UNMATCHED_ROUTE).to_owned();
        self.record(|| {
            counter!(names::HTTP_REQUESTS,
                "method" => method, "route" => route.clone(), "status" => status_class(status))
            .increment(1);
            histogram!(names::HTTP_REQUEST_DURATION, "method" => method, "route" => route)
                .record(elapsed.as_secs_f64());
        });
        self.maybe_upkeep();
    }

    /// Counts one assistant turn: its provider, the tools it called (names from a fixed
    /// set) and how long the provider took.
    pub fn record_chat(&self, provider: &'static str, tools: &[&'static str], latency: Duration) {
        self.record(|| {
            counter!(names::CHATS, "provider" => provider).increment(1);
            for &tool in tools {
                counter!(names::CHAT_TOOL_CALLS, "tool" => tool).increment(1);
            }
            histogram!(names::CHAT_PROVIDER_DURATION, "provider" => provider)
                .record(latency.as_secs_f64());
        });
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        chats.chats += 1;
        for &tool in tools {
            *chats.tool_calls.entry(tool.to_owned()).or_default() += 1;
        }
        let ms = latency.as_secs_f64() * 1000.0;
        chats.provider_total_ms += ms;
        chats.provider_max_ms = chats.provider_max_ms.max(ms);
        chats.provider_avg_ms = chats.provider_total_ms / chats.chats as f64;
    }

    /// The JSON view: per-route counts and latency quantiles since the start.
    pub fn summary(&self, uptime: Duration) -> MetricsSummary {
        self.upkeep();
        let mut summary = self.summaries.summary(uptime);
        summary.assistant = self.chats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        summary
    }

    /// Prometheus text exposition format (version 0.0.4), from the exporter's handle.
    pub fn prometheus(&self, uptime: Duration) -> String {
        self.record(|| gauge!(names::UPTIME).set(uptime.as_secs_f64().floor()));
        self.upkeep();
        self.prometheus.render()
    }

    fn maybe_upkeep(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        let due = self.next_upkeep_ms.load(Ordering::Relaxed);
        if now >= due
            && self
                .next_upkeep_ms
                .compare_exchange(
                    due,
                    now + UPKEEP_INTERVAL.as_millis() as u64,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            self.upkeep();
        }
    }

    fn upkeep(&self) {
        self.prometheus.run_upkeep();
        self.summaries.fold_pending();
    }
}

/// Two recorders fed as one. (`metrics-util`'s `Fanout` would do, but it is not `Send`,
/// and the app state crosses threads.)
struct Tee<A, B>(A, B);

impl<A: Recorder, B: Recorder> Recorder for Tee<A, B> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0
            .describe_counter(key.clone(), unit, description.clone());
        self.1.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0
            .describe_gauge(key.clone(), unit, description.clone());
        self.1.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0
            .describe_histogram(key.clone(), unit, description.clone());
        self.1.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Both(
            self.0.register_counter(key, metadata),
            self.1.register_counter(key, metadata),
        )))
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Both(
            self.0.register_gauge(key, metadata),
            self.1.register_gauge(key, metadata),
        )))
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Both(
            self.0.register_histogram(key, metadata),
            self.1.register_histogram(key, metadata),
        )))
    }
}

/// One metric handle from each side of a [`Tee`].
struct Both<T>(T, T);

impl CounterFn for Both<Counter> {
    fn increment(&self, value: u64) {
        self.0.increment(value);
        self.1.increment(value);
    }

    fn absolute(&self, value: u64) {
        self.0.absolute(value);
        self.1.absolute(value);
    }
}

impl GaugeFn for Both<Gauge> {
    fn increment(&self, value: f64) {
        self.0.increment(value);
        self.1.increment(value);
    }

    fn decrement(&self, value: f64) {
        self.0.decrement(value);
        self.1.decrement(value);
    }

    fn set(&self, value: f64) {
        self.0.set(value);
        self.1.set(value);
    }
}

impl HistogramFn for Both<Histogram> {
    fn record(&self, value: f64) {
        self.0.record(value);
        self.1.record(value);
    }
}

fn describe() {
    describe_counter!(
        names::HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests by route and status class."
    );
    describe_histogram!(
        names::HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "HTTP request latency by route."
    );
    describe_counter!(
        names::CHATS,
        Unit::Count,
        "Assistant turns answered, by provider."
    );
    describe_counter!(
        names::CHAT_TOOL_CALLS,
        Unit::Count,
        "Assistant tool calls, by tool."
    );
    describe_histogram!(
        names::CHAT_PROVIDER_DURATION,
        Unit::Seconds,
        "Time the assistant's provider took per turn."
    );
    describe_gauge!(
        names::UPTIME,
        Unit::Seconds,
        "Seconds since this process started."
    );
}

/// Status as a class, so that the status label has three values.
fn status_class(status: StatusCode) -> &'static str {
    if status.is_client_error() {
        "4xx"
    } else if status.is_server_error() {
        "5xx"
    } else {
        "2xx_3xx"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(metrics: &Metrics, method: &'static str, route: &str, status: u16, ms: u64) {
        metrics.record_request(
            method,
            Some(route),
            StatusCode::from_u16(status).unwrap(),
            Duration::from_millis(ms),
        );
    }

    #[test]
    fn quantiles_and_counts_per_route() {
        let metrics = Metrics::new();
        for ms in 1..=100 {
            request(&metrics, "GET", "/api/products", 200, ms);
        }
        request(&metrics, "GET", "/api/products", 404, 1);
        request(&metrics, "POST", "/api/transactions", 500, 3);
        let summary = metrics.summary(Duration::from_secs(5));
        let products = &summary.routes["GET /api/products"];
        assert_eq!(products.count, 101);
        assert_eq!(products.client_errors, 1);
        assert!(
            (94.0..=96.5).contains(&products.p95_ms),
            "{}",
            products.p95_ms
        );
        assert!(
            (98.0..=100.5).contains(&products.p99_ms),
            "{}",
            products.p99_ms
        );
        assert!(products.min_ms <= 1.01);
        assert!(
            (49.0..=51.0).contains(&products.avg_ms),
            "{}",
            products.avg_ms
        );
        assert_eq!(summary.total_requests, 102);
        assert_eq!(summary.total_server_errors, 1);
        let text = metrics.prometheus(Duration::from_secs(5));
        assert!(text.contains(
            "siprems_http_requests_total{method=\"POST\",route=\"/api/transactions\",status=\"5xx\"} 1"
        ));
        assert!(text.contains(
            "siprems_http_request_duration_seconds_count{method=\"GET\",route=\"/api/products\"} 101"
        ));
        assert!(text.contains("# TYPE siprems_http_request_duration_seconds summary"));
        assert!(text.contains("siprems_uptime_seconds 5"), "{text}");
    }

    #[test]
    fn each_instance_counts_only_its_own() {
        let one = Metrics::new();
        let two = Metrics::new();
        request(&one, "GET", "/health", 200, 1);
        request(&one, "GET", "/health", 200, 1);
        request(&two, "GET", "/health", 200, 1);
        assert_eq!(one.summary(Duration::ZERO).routes["GET /health"].count, 2);
        assert_eq!(two.summary(Duration::ZERO).routes["GET /health"].count, 1);
        assert!(two.prometheus(Duration::ZERO).contains(
            "siprems_http_requests_total{method=\"GET\",route=\"/health\",status=\"2xx_3xx\"} 1"
        ));
    }

    #[test]
    fn requests_without_a_route_share_one_label() {
        let metrics = Metrics::new();
        for _ in 0..3 {
            metrics.record_request("GET", None, StatusCode::NOT_FOUND, Duration::from_millis(1));
        }
        let summary = metrics.summary(Duration::ZERO);
        assert_eq!(summary.routes["GET unmatched"].client_errors, 3);
    }
}
