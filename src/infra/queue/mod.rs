//! Background work on apalis: a durable queue in the database (apalis' SQLite backend in
//! the embedded mode, its PostgreSQL backend otherwise), `siprems worker` processes that
//! run jobs with retries, exponential back-off, a time limit and cancellation, and the
//! nightly retraining schedule.
//!
//! - this module: the queue itself (enqueue, look up, cancel) and how tasks look to clients;
//! - [`worker`]: running jobs;
//! - [`scheduler`]: the nightly retraining schedule.

mod scheduler;
mod worker;

pub use scheduler::{TrainingSchedule, run_scheduler};
pub use worker::run_worker;

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::forecasting::Horizon;
use crate::domain::sku::Sku;
use crate::domain::{DomainError, DomainResult, millis_to_rfc3339};
use crate::storage::jobs::{self, QueueStore, TaskRow};

/// Retries after a failed first run; a job runs at most `RETRIES + 1` times.
pub(super) const RETRIES: usize = 3;
pub(super) const MAX_ATTEMPTS: i64 = RETRIES as i64 + 1;
/// Back-off before the first retry; it doubles for each further one (with some jitter).
pub(super) const BACKOFF_BASE: Duration = Duration::from_secs(5);
pub(super) const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How often a worker beats; a worker silent for two beats is dead, and another worker
/// re-enqueues the job it held.
pub const HEARTBEAT: Duration = Duration::from_secs(30);
/// How often an idle worker looks for due jobs (PostgreSQL also wakes it on a new job).
pub(super) const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often a running job checks whether it was cancelled.
pub(super) const CANCEL_CHECK: Duration = Duration::from_secs(1);
/// Stale models are retrained at most this long after the change that made them stale,
/// so a burst of event edits costs one training run.
pub const RETRAIN_DEBOUNCE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    TrainProduct {
        sku: Sku,
    },
    TrainAll,
    TrainStale,
    Predict {
        sku: Sku,
        days: Horizon,
    },
    /// Deletes the sessions that ended a while ago (scheduled with the nightly training).
    SweepSessions,
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

#[cfg(test)]
mod tests {
    use super::*;

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
