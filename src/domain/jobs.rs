//! Background work: a queue kept in the database (so queued work survives a restart),
//! a runner that executes it with retries, back-off and a time limit, and the nightly
//! retraining schedule.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use utoipa::ToSchema;

use super::forecasting::Forecaster;
use super::{DomainError, DomainResult, millis_to_rfc3339};
use crate::storage::{Backend, Db, jobs, now_millis};

/// Attempts per job: the first run and three retries.
const MAX_ATTEMPTS: i64 = 4;
const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// A job still marked running this long after its time limit belongs to a dead worker,
/// and another worker takes it over.
pub const LEASE_MARGIN: Duration = Duration::from_secs(60);
/// Stale models are retrained at most this long after the change that made them stale,
/// so a burst of event edits costs one training run.
pub const RETRAIN_DEBOUNCE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    TrainProduct { sku: String },
    TrainAll,
    TrainStale,
    Predict { sku: String, days: usize },
}

impl JobSpec {
    fn kind(&self) -> &'static str {
        match self {
            JobSpec::TrainProduct { .. } => "train_product",
            JobSpec::TrainAll => "train_all",
            JobSpec::TrainStale => "train_stale",
            JobSpec::Predict { .. } => "predict",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    pub task_id: String,
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub job: serde_json::Value,
    pub run_after: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

impl From<jobs::JobRow> for TaskView {
    fn from(row: jobs::JobRow) -> Self {
        TaskView {
            task_id: row.id,
            kind: row.kind,
            status: row.status,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            job: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
            run_after: millis_to_rfc3339(row.run_after),
            created_at: millis_to_rfc3339(row.created_at),
            started_at: row.started_at.map(millis_to_rfc3339),
            finished_at: row.finished_at.map(millis_to_rfc3339),
            result: row
                .result
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            error: row.error,
        }
    }
}

/// The job queue. Cheap to clone; every clone wakes the same runner.
#[derive(Clone)]
pub struct JobQueue {
    db: Db,
    wake: Arc<Notify>,
}

impl JobQueue {
    pub fn new(db: Db) -> Self {
        JobQueue {
            db,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Enqueues a job; with a dedupe key that is already taken, returns the existing job.
    pub async fn enqueue(
        &self,
        spec: &JobSpec,
        delay: Duration,
        dedupe_key: Option<&str>,
    ) -> DomainResult<TaskView> {
        let id = uuid::Uuid::new_v4().to_string();
        let payload =
            serde_json::to_string(spec).map_err(|e| DomainError::Internal(e.to_string()))?;
        let job = jobs::NewJob {
            id: &id,
            kind: spec.kind(),
            payload: &payload,
            run_after: now_millis() + delay.as_millis() as i64,
            max_attempts: MAX_ATTEMPTS,
            dedupe_key,
        };
        let row = if jobs::insert(self.db.pool(), &job).await? {
            self.wake.notify_one();
            jobs::find(self.db.pool(), &id).await?
        } else {
            jobs::find_by_dedupe_key(self.db.pool(), dedupe_key.unwrap_or_default()).await?
        };
        row.map(TaskView::from)
            .ok_or_else(|| DomainError::Internal("enqueued job vanished".into()))
    }

    /// Schedules retraining of stale models soon, once per debounce window.
    pub async fn retrain_stale_soon(&self) -> DomainResult<TaskView> {
        let window = now_millis() / RETRAIN_DEBOUNCE.as_millis() as i64;
        let key = format!("train_stale:{window}");
        self.enqueue(&JobSpec::TrainStale, RETRAIN_DEBOUNCE, Some(&key))
            .await
    }

    pub async fn get(&self, id: &str) -> DomainResult<TaskView> {
        jobs::find(self.db.pool(), id)
            .await?
            .map(TaskView::from)
            .ok_or_else(|| DomainError::not_found(format!("task {id}")))
    }

    pub async fn list(&self, statuses: &[&str]) -> DomainResult<Vec<TaskView>> {
        Ok(jobs::with_status(self.db.pool(), statuses, 200)
            .await?
            .into_iter()
            .map(TaskView::from)
            .collect())
    }

    /// Cancels a queued job, or marks a running one cancelled so its result is dropped.
    pub async fn cancel(&self, id: &str) -> DomainResult<TaskView> {
        let task = self.get(id).await?;
        if !jobs::cancel(self.db.pool(), id).await? {
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
        value.map_err(|e| DomainError::Internal(e.to_string()))
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

/// Runs queued jobs one at a time until `shutdown` turns true. Training already uses
/// every core, so one job at a time is the fastest order.
pub async fn run_worker(
    queue: JobQueue,
    forecaster: Arc<Forecaster>,
    time_limit: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    // SQLite means the embedded mode: this is the only worker, and what is marked running
    // was interrupted by the last shutdown. Elsewhere other workers may be running jobs.
    if queue.db.backend() == Backend::Sqlite {
        match jobs::requeue_interrupted(queue.db.pool()).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "requeued jobs interrupted by the last shutdown"),
            Err(error) => tracing::error!(%error, "could not requeue interrupted jobs"),
        }
    }
    let lease = time_limit + LEASE_MARGIN;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let claimed = match jobs::claim_next(queue.db.pool(), lease).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "job queue unavailable");
                None
            }
        };
        let Some(job) = claimed else {
            tokio::select! {
                () = queue.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        };
        run_one(&queue, &forecaster, job, time_limit).await;
    }
}

async fn run_one(
    queue: &JobQueue,
    forecaster: &Forecaster,
    job: jobs::JobRow,
    time_limit: Duration,
) {
    let pool = queue.db.pool();
    let spec: JobSpec = match serde_json::from_str(&job.payload) {
        Ok(spec) => spec,
        Err(error) => {
            let message = format!("unreadable job: {error}");
            let _ = jobs::finish(pool, &job.id, "failed", None, Some(&message)).await;
            return;
        }
    };
    tracing::info!(task = %job.id, kind = %job.kind, attempt = job.attempts, "job started");
    let outcome = match tokio::time::timeout(time_limit, execute(forecaster, &spec)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(DomainError::Internal(format!(
            "timed out after {} s",
            time_limit.as_secs()
        ))),
    };
    let stored = match outcome {
        Ok(result) => {
            let result = result.to_string();
            jobs::finish(pool, &job.id, "succeeded", Some(&result), None).await
        }
        Err(error) if is_retryable(&error) && job.attempts < job.max_attempts => {
            let delay = BACKOFF_BASE * 2u32.pow((job.attempts - 1).clamp(0, 10) as u32);
            tracing::warn!(task = %job.id, %error, retry_in_s = delay.as_secs(), "job failed; will retry");
            jobs::retry_later(
                pool,
                &job.id,
                now_millis() + delay.as_millis() as i64,
                &error.to_string(),
            )
            .await
        }
        Err(error) => {
            tracing::warn!(task = %job.id, %error, "job failed");
            jobs::finish(pool, &job.id, "failed", None, Some(&error.to_string())).await
        }
    };
    if let Err(error) = stored {
        tracing::error!(task = %job.id, %error, "could not record the job's outcome");
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
        assert!(is_retryable(&DomainError::Internal(
            "optimizer crashed".into()
        )));
    }

    #[test]
    fn job_specs_serialize_with_their_kind() {
        let spec = JobSpec::TrainProduct {
            sku: "BRD-001".into(),
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, r#"{"kind":"train_product","sku":"BRD-001"}"#);
        assert_eq!(serde_json::from_str::<JobSpec>(&json).unwrap(), spec);
    }
}
