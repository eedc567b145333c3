//! Running jobs: one at a time per worker, retried with back-off unless they cannot
//! succeed, stopped by a time limit or a cancellation.

use std::sync::Arc;
use std::time::Duration;

use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::{
    AbortError, Attempt, BackendExt, BoxDynError, Data, RetryPolicy, Strategy, TaskId,
    WorkerBuilder, WorkerBuilderExt,
};
use apalis_postgres::{PostgresStorage, Pubsub};
use apalis_sqlite::SqliteStorage;
use tokio::sync::watch;

use crate::domain::auth;
use crate::domain::forecasting::Forecaster;
use crate::domain::{DomainError, DomainResult};
use crate::storage::jobs::{self, QueueStore};
use crate::storage::{Db, now_millis};

use super::{BACKOFF_BASE, BACKOFF_MAX, CANCEL_CHECK, JobQueue, JobSpec, POLL_INTERVAL, RETRIES};

/// Whether a failure is worth another attempt (bad input never gets better).
fn is_retryable(error: &DomainError) -> bool {
    !matches!(
        error,
        DomainError::NotFound(_) | DomainError::Validation { .. } | DomainError::Conflict(_)
    )
}

async fn execute(runner: &Runner, spec: &JobSpec) -> DomainResult<serde_json::Value> {
    let forecaster = &runner.forecaster;
    let to_json = |value: Result<serde_json::Value, serde_json::Error>| {
        value.map_err(|e| DomainError::internal("serializing a job result", e))
    };
    match spec {
        JobSpec::TrainProduct { sku } => {
            to_json(serde_json::to_value(forecaster.train_product(sku).await?))
        }
        JobSpec::TrainAll => to_json(serde_json::to_value(forecaster.train_many(false).await?)),
        JobSpec::TrainStale => to_json(serde_json::to_value(forecaster.train_many(true).await?)),
        JobSpec::Predict { sku, days } => {
            to_json(serde_json::to_value(forecaster.predict(sku, *days).await?))
        }
        JobSpec::SweepSessions => to_json(serde_json::to_value(
            auth::sweep_ended_sessions(&runner.db, now_millis()).await?,
        )),
    }
}

/// What every job of a worker needs.
#[derive(Clone)]
struct Runner {
    forecaster: Arc<Forecaster>,
    db: Db,
    store: QueueStore,
    time_limit: Duration,
}

/// Resolves once the task has been cancelled.
async fn cancellation(store: &QueueStore, id: &str) {
    loop {
        tokio::time::sleep(CANCEL_CHECK).await;
        if store.is_cancelled(id).await.unwrap_or(false) {
            return;
        }
    }
}

/// One attempt at one job. A transient failure is an ordinary error, which apalis'
/// retry policy retries; a failure not worth retrying (and a cancellation) aborts.
async fn run_job(
    spec: JobSpec,
    id: TaskId,
    attempt: Attempt,
    runner: Data<Runner>,
) -> Result<serde_json::Value, BoxDynError> {
    let id = id.to_string();
    tracing::info!(task = %id, job = ?spec, attempt = attempt.current(), "job started");
    let limit = runner.time_limit;
    let work = async {
        match tokio::time::timeout(limit, execute(&runner, &spec)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(DomainError::unexpected(format!(
                "timed out after {} s",
                limit.as_secs()
            ))),
        }
    };
    tokio::select! {
        outcome = work => match outcome {
            Ok(result) => {
                tracing::info!(task = %id, "job succeeded");
                Ok(result)
            }
            Err(error) if is_retryable(&error) => {
                tracing::warn!(task = %id, %error, attempt = attempt.current(), "job failed");
                Err(error.to_string().into())
            }
            Err(error) => {
                tracing::warn!(task = %id, %error, "job failed; not worth a retry");
                Err(Box::new(AbortError::new(error.to_string())))
            }
        },
        () = cancellation(&runner.store, &id) => {
            tracing::info!(task = %id, "job cancelled");
            Err(Box::new(AbortError::new("cancelled")))
        }
    }
}

/// Aborted attempts (bad input, cancellation) are final.
fn not_aborted(error: &BoxDynError) -> bool {
    error.downcast_ref::<AbortError>().is_none()
}

/// Builds and runs an apalis worker over `backend`: one job at a time (training already
/// uses every core), retried `RETRIES` times with exponential back-off unless aborted.
macro_rules! run_apalis_worker {
    ($name:expr, $backend:expr, $runner:expr) => {{
        let backoff =
            ExponentialBackoffMaker::new(BACKOFF_BASE, BACKOFF_MAX, 0.25, HasherRng::default())
                .expect("valid back-off bounds")
                .make_backoff();
        let policy = RetryPolicy::retries(RETRIES)
            .with_backoff(backoff)
            .retry_if(not_aborted);
        WorkerBuilder::new($name)
            .backend($backend)
            .data($runner)
            .concurrency(1)
            .retry(policy)
            .build(run_job)
            .run()
            .await
    }};
}

/// Runs queued jobs until `shutdown` turns true. A job interrupted by the shutdown (or by
/// the process dying) stays claimed by this worker until its heartbeat is missed; then
/// any other worker, or this one's successor, re-enqueues and runs it.
pub async fn run_worker(
    queue: JobQueue,
    forecaster: Arc<Forecaster>,
    db: Db,
    time_limit: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let runner = Runner {
        forecaster,
        db,
        store: queue.store.clone(),
        time_limit,
    };
    loop {
        // Each run registers under a new name: apalis refuses a name seen alive lately.
        let name = format!("siprems-{}", ulid::Ulid::generate());
        let run = async {
            match &queue.store {
                QueueStore::Sqlite(pool) => {
                    let backend = SqliteStorage::<JobSpec>::new(pool)
                        .with_config(QueueStore::sqlite_config(queue.heartbeat))
                        .poll_with_interval(POLL_INTERVAL);
                    run_apalis_worker!(name.as_str(), backend, runner.clone())
                }
                QueueStore::Postgres(pool) => {
                    let wake = Strategy::new()
                        .stream(Pubsub::new(pool.clone(), jobs::QUEUE.to_owned()))
                        .interval(POLL_INTERVAL);
                    let backend = PostgresStorage::<JobSpec>::new(pool)
                        .with_config(QueueStore::postgres_config(queue.heartbeat))
                        .poll_with_strategy(wake);
                    run_apalis_worker!(name.as_str(), backend, runner.clone())
                }
            }
        };
        tokio::select! {
            outcome = run => {
                if let Err(error) = outcome {
                    tracing::warn!(%error, "job worker stopped; restarting");
                }
            }
            () = stopped(&mut shutdown) => return,
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
            () = stopped(&mut shutdown) => return,
        }
    }
}

/// Resolves once `shutdown` is true (or can no longer change).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(!is_retryable(&DomainError::not_found("product X")));
        assert!(!is_retryable(&DomainError::Conflict(
            "short history".into()
        )));
        assert!(is_retryable(&DomainError::unexpected("optimizer crashed")));
    }
}
