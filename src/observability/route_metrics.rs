//! Per-route request counts and latency quantiles, kept in this process (each instance
//! reports its own; a scraper sums them). Rendered as JSON and as Prometheus text.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

#[derive(Default)]
pub struct RouteMetrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

struct RouteStats {
    count: u64,
    client_errors: u64,
    server_errors: u64,
    total_micros: u64,
    /// Microseconds from 1 µs to 10 minutes with 3 significant digits.
    latency: Histogram<u64>,
}

impl RouteStats {
    fn new() -> Self {
        RouteStats {
            count: 0,
            client_errors: 0,
            server_errors: 0,
            total_micros: 0,
            latency: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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
}

fn ms(micros: u64) -> f64 {
    (micros as f64 / 1000.0 * 1000.0).round() / 1000.0
}

impl RouteMetrics {
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let micros = (elapsed.as_micros() as u64).clamp(1, 600_000_000);
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes
            .entry(route.to_owned())
            .or_insert_with(RouteStats::new);
        stats.count += 1;
        stats.total_micros += micros;
        match status {
            400..=499 => stats.client_errors += 1,
            500..=599 => stats.server_errors += 1,
            _ => {}
        }
        let _ = stats.latency.record(micros);
    }

    pub fn summary(&self, uptime: Duration) -> MetricsSummary {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let summaries: BTreeMap<String, RouteSummary> = routes
            .iter()
            .map(|(route, s)| {
                let summary = RouteSummary {
                    count: s.count,
                    client_errors: s.client_errors,
                    server_errors: s.server_errors,
                    min_ms: ms(s.latency.min()),
                    avg_ms: ms(s.total_micros / s.count.max(1)),
                    p50_ms: ms(s.latency.value_at_quantile(0.50)),
                    p95_ms: ms(s.latency.value_at_quantile(0.95)),
                    p99_ms: ms(s.latency.value_at_quantile(0.99)),
                    max_ms: ms(s.latency.max()),
                };
                (route.clone(), summary)
            })
            .collect();
        MetricsSummary {
            total_requests: summaries.values().map(|s| s.count).sum(),
            total_server_errors: summaries.values().map(|s| s.server_errors).sum(),
            uptime_seconds: uptime.as_secs(),
            routes: summaries,
        }
    }

    /// Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self, uptime: Duration) -> String {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP siprems_http_requests_total HTTP requests by route and status class.\n",
        );
        out.push_str("# TYPE siprems_http_requests_total counter\n");
        for (route, s) in routes.iter() {
            let (method, path) = split_route(route);
            let ok = s.count - s.client_errors - s.server_errors;
            for (class, n) in [
                ("2xx_3xx", ok),
                ("4xx", s.client_errors),
                ("5xx", s.server_errors),
            ] {
                let _ = writeln!(
                    out,
                    "siprems_http_requests_total{{method=\"{method}\",route=\"{path}\",status=\"{class}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP siprems_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE siprems_http_request_duration_seconds summary\n");
        for (route, s) in routes.iter() {
            let (method, path) = split_route(route);
            let labels = format!("method=\"{method}\",route=\"{path}\"");
            for q in [0.5, 0.95, 0.99] {
                let seconds = s.latency.value_at_quantile(q) as f64 / 1e6;
                let _ = writeln!(
                    out,
                    "siprems_http_request_duration_seconds{{{labels},quantile=\"{q}\"}} {seconds}"
                );
            }
            let _ = writeln!(
                out,
                "siprems_http_request_duration_seconds_sum{{{labels}}} {}",
                s.total_micros as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "siprems_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out.push_str("# HELP siprems_uptime_seconds Seconds since this process started.\n");
        out.push_str("# TYPE siprems_uptime_seconds gauge\n");
        let _ = writeln!(out, "siprems_uptime_seconds {}", uptime.as_secs());
        out
    }
}

fn split_route(route: &str) -> (&str, String) {
    let (method, path) = route.split_once(' ').unwrap_or(("", route));
    (method, path.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_counts_per_route() {
        let metrics = RouteMetrics::default();
        for ms in 1..=100 {
            metrics.record("GET /api/products", 200, Duration::from_millis(ms));
        }
        metrics.record("GET /api/products", 404, Duration::from_millis(1));
        metrics.record("POST /api/transactions", 500, Duration::from_millis(3));
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
        assert_eq!(summary.total_server_errors, 1);
        let text = metrics.prometheus(Duration::from_secs(5));
        assert!(text.contains(
            "siprems_http_requests_total{method=\"POST\",route=\"/api/transactions\",status=\"5xx\"} 1"
        ));
        assert!(text.contains("siprems_http_request_duration_seconds_count{method=\"GET\",route=\"/api/products\"} 101"));
    }
}
