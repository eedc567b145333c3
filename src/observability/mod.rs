//! Logs and metrics.

mod recorder;
mod route_summary;

pub use self::recorder::{Metrics, names};
pub use self::route_summary::{AssistantSummary, MetricsSummary, RouteSummary};

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the log subscriber once per process (`RUST_LOG` filters, default `info`).
/// A second call — tests start many apps in one process — keeps the first.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
