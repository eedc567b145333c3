//! How long work (imports, seeding) reports how far it is, without knowing who listens.

pub trait Progress: Send + Sync {
    /// Starts a stage of `total` units (rows, days...).
    fn start(&self, stage: &str, total: u64);
    fn advance(&self, units: u64);
    fn finish(&self, message: &str);
}

/// Reports nothing (the server's own start-up seeding logs instead).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, stage: &str, total: u64) {
        tracing::info!(stage, total, "started");
    }

    fn advance(&self, _units: u64) {}

    fn finish(&self, message: &str) {
        tracing::info!("{message}");
    }
}
