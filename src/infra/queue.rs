//! Background work on apalis: a durable queue in the database (apalis' SQLite backend in
//! the embedded mode, its PostgreSQL backend otherwise), `siprems worker` processes that
//! run jobs with retries, exponential back-off, a time limit and cancellation, and the
//! nightly retraining schedule.

use std::str::FromStr;
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
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::domain::forecasting::{Forecaster, Horizon};
use crate::domain::sku::Sku;
use crate::domain::{DomainError, DomainResult, millis_to_rfc3339};
use crate::storage::jobs::{self, QueueStore, TaskRow};

/// Retries after a failed first run; a job runs at most `RETRIES + 1` times.
const RETRIES: usize = 3;
const MAX_ATTEMPTS: i64 = RETRIES as i64 + 1;
/// Back-off before the first retry; it doubles for each further one (with some jitter).
const BACKOFF_BASE: Duration = Duration::from_secs(5);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How often a worker beats; a worker silent for two beats is dead, and another worker
/// re-enqueues the job it held.
pub const HEARTBEAT: Duration = Duration::from_secs(30);
/// How often an idle worker looks for due jobs (PostgreSQL also wakes it on a new job).
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often a running job checks whether it was cancelled.
const CANCEL_CHECK: Duration = Duration::from_secs(1);
/// Stale models are retrained at most this long after the change that made them stale,
/// so a burst of event edits costs one training run.
pub const RETRAIN_DEBOUNCE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    TrainProduct { sku: Sku },
    TrainAll,
    TrainStale,
    Predict { sku: Sku, days: Horizon },
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    pub task_id: String,
    pub kind: String,
    pub status: TaskStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub job: serde_json::Value,
    /// The key under which the job was enqueued once (e.g. `nightly:<time>`), if any.
    pub dedupe_key: Option<String>,
    pub run_after: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// Where a background task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskStatus {
    fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }

    /// apalis' statuses that may show as this one.
    fn apalis_statuses(self) -> &'static [&'static str] {
        match self {
            TaskStatus::Queued => &["Pending", "Queued", "Failed"],
            TaskStatus::Running => &["Running"],
            TaskStatus::Succeeded => &["Done"],
            TaskStatus::Failed => &["Failed", "Killed"],
            TaskStatus::Cancelled => &["Killed"],
        }
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        };
        f.write_str(name)
    }
}

/// Our status for apalis' one. A `Failed` task with attempts left goes back to the queue;
/// `Killed` is a cancellation or a failure not worth retrying.
fn status_of(row: &TaskRow) -> TaskStatus {
    match row.status.as_str() {
        "Pending" | "Queued" => TaskStatus::Queued,
        "Running" => TaskStatus::Running,
        "Done" => TaskStatus::Succeeded,
        "Failed" if row.attempts < row.max_attempts => TaskStatus::Queued,
        "Killed" if row.cancelled() => TaskStatus::Cancelled,
        _ => TaskStatus::Failed,
    }
}

impl From<TaskRow> for TaskView {
    fn from(row: TaskRow) -> Self {
        let status = status_of(&row);
        let job: serde_json::Value =
            serde_json::from_slice(&row.job).unwrap_or(serde_json::Value::Null);
        let kind = job["kind"].as_str().unwrap_or("unknown").to_owned();
        let outcome: serde_json::Value = row
            .last_result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        let result = (status == TaskStatus::Succeeded)
            .then(|| outcome.get("Ok").cloned())
            .flatten();
        let error = outcome.get("Err").map(|e| {
            let text = e.as_str().map_or_else(|| e.to_string(), str::to_owned);
            text.strip_prefix("AbortError: ")
                .map(str::to_owned)
                .unwrap_or(text)
        });
        let finished = status.is_finished();
        let created_at = ulid::Ulid::from_string(&row.id)
            .map(|id| id.timestamp_ms() as i64)
            .unwrap_or_default();
        TaskView {
            task_id: row.id,
            kind,
            status,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            job,
            dedupe_key: row.idempotency_key,
            run_after: millis_to_rfc3339(row.run_at * 1000),
            created_at: millis_to_rfc3339(created_at),
            started_at: row.lock_at.map(|s| millis_to_rfc3339(s * 1000)),
            finished_at: row
                .done_at
                .filter(|_| finished)
                .map(|s| millis_to_rfc3339(s * 1000)),
            result,
            error,
        }
    }
}

/// The job queue. Cheap to clone; all clones share one connection pool.
#[derive(Clone, Debug)]
pub struct JobQueue {
    store: QueueStore,
    heartbeat: Duration,
}

impl JobQueue {
    /// Connects to the queue's tables (and creates or upgrades them). On PostgreSQL the
    /// queue needs a session of its own (apalis prepares named statements, takes advisory
    /// locks and listens for new jobs), which pgBouncer in transaction mode cannot give: so
    /// `direct_url` (PostgreSQL reached directly, DATABASE_MIGRATION_URL) wins when set.
    pub async fn connect(database_url: &str, direct_url: Option<&str>) -> DomainResult<JobQueue> {
        let store = QueueStore::connect(direct_url.unwrap_or(database_url)).await?;
        Ok(JobQueue {
            store,
            heartbeat: HEARTBEAT,
        })
    }

    /// The same queue with workers that beat every `heartbeat` (two missed beats and a
    /// worker's job is taken over).
    pub fn with_heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// The queue's storage, for what only tests and tools do with it.
    pub fn store(&self) -> &QueueStore {
        &self.store
    }

    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// Enqueues a job; with a dedupe key that is already taken, returns the existing job.
    pub async fn enqueue(
        &self,
        spec: &JobSpec,
        delay: Duration,
        dedupe_key: Option<&str>,
    ) -> DomainResult<TaskView> {
        let payload =
            serde_json::to_vec(spec).map_err(|e| DomainError::internal("serializing a job", e))?;
        let run_at = Utc::now().timestamp().max(0) as u64 + delay.as_secs_f64().ceil() as u64;
        let row = self
            .store
            .push(jobs::NewTask {
                id: ulid::Ulid::generate(),
                payload,
                run_at,
                max_attempts: MAX_ATTEMPTS as usize,
                dedupe_key,
            })
            .await?;
        Ok(TaskView::from(row))
    }

    /// Schedules retraining of stale models soon, once per debounce window.
    pub async fn retrain_stale_soon(&self) -> DomainResult<TaskView> {
        let window = Utc::now().timestamp_millis() / RETRAIN_DEBOUNCE.as_millis() as i64;
        let key = format!("train_stale:{window}");
        self.enqueue(&JobSpec::TrainStale, RETRAIN_DEBOUNCE, Some(&key))
            .await
    }

    pub async fn get(&self, id: &str) -> DomainResult<TaskView> {
        self.store
            .find(id)
            .await?
            .map(TaskView::from)
            .ok_or_else(|| DomainError::not_found(format!("task {id}")))
    }

    /// Tasks in any of our `statuses` (`queued`, `running`, ...), soonest first.
    pub async fn list(&self, statuses: &[TaskStatus]) -> DomainResult<Vec<TaskView>> {
        let mut wanted: Vec<&str> = statuses
            .iter()
            .flat_map(|s| s.apalis_statuses().iter().copied())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        Ok(self
            .store
            .with_status(&wanted, 200)
            .await?
            .into_iter()
            .map(TaskView::from)
            .filter(|task| statuses.contains(&task.status))
            .collect())
    }

    /// Cancels a queued job, or stops a running one and drops its result.
    pub async fn cancel(&self, id: &str) -> DomainResult<TaskView> {
        let task = self.get(id).await?;
        if !self.store.cancel(id).await? {
            return Err(DomainError::Conflict(format!(
                "task {id} already finished ({})",
                task.status
            )));
        }
        self.get(id).await
    }
}

/// Whether a failure is worth another attempt (bad input never gets better).
fn is_retryable(error: &DomainError) -> bool {
    !matches!(
        error,
        DomainError::NotFound(_) | DomainError::Validation { .. } | DomainError::Conflict(_)
    )
}

async fn execute(forecaster: &Forecaster, spec: &JobSpec) -> DomainResult<serde_json::Value> {
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
    }
}

/// What every job of a worker needs.
#[derive(Clone)]
struct Runner {
    forecaster: Arc<Forecaster>,
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
        match tokio::time::timeout(limit, execute(&runner.forecaster, &spec)).await {
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
    time_limit: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let runner = Runner {
        forecaster,
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

/// The retraining schedule, a cron expression with seconds (`0 0 2 * * *` = 02:00 UTC).
#[derive(Debug, Clone)]
pub struct TrainingSchedule(cron::Schedule);

impl FromStr for TrainingSchedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        cron::Schedule::from_str(text)
            .map(TrainingSchedule)
            .map_err(|e| format!("invalid cron expression {text:?}: {e}"))
    }
}

impl TrainingSchedule {
    pub fn next_after(&self, after: chrono::DateTime<Utc>) -> Option<chrono::DateTime<Utc>> {
        self.0.after(&after).next()
    }
}

/// Enqueues the nightly retraining of all models at each scheduled time. The dedupe key
/// is the scheduled instant, so any number of schedulers enqueue each run once.
pub async fn run_scheduler(
    queue: JobQueue,
    schedule: TrainingSchedule,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let Some(next) = schedule.next_after(Utc::now()) else {
            tracing::warn!("the training schedule has no future run");
            return;
        };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        let key = format!("nightly:{}", next.to_rfc3339());
        match queue
            .enqueue(&JobSpec::TrainAll, Duration::ZERO, Some(&key))
            .await
        {
            Ok(task) => tracing::info!(task = %task.task_id, "scheduled retraining enqueued"),
            Err(error) => tracing::error!(%error, "could not enqueue the scheduled retraining"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_fire_at_the_configured_time() {
        let schedule: TrainingSchedule = "0 0 2 * * *".parse().unwrap();
        let after = chrono::DateTime::parse_from_rfc3339("2026-11-26T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            schedule.next_after(after).unwrap().to_rfc3339(),
            "2026-11-27T02:00:00+00:00"
        );
        assert!("every night".parse::<TrainingSchedule>().is_err());
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(!is_retryable(&DomainError::not_found("product X")));
        assert!(!is_retryable(&DomainError::Conflict(
            "short history".into()
        )));
        assert!(is_retryable(&DomainError::unexpected("optimizer crashed")));
    }

    #[test]
    fn job_specs_serialize_with_their_kind() {
        let spec = JobSpec::TrainProduct {
            sku: Sku::parse("BRD-001").unwrap(),
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, r#"{"kind":"train_product","sku":"BRD-001"}"#);
        assert_eq!(serde_json::from_str::<JobSpec>(&json).unwrap(), spec);
    }
}
