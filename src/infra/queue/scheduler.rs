//! The nightly schedule: retraining every model, and sweeping ended sessions.

use std::str::FromStr;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use super::{JobQueue, JobSpec};

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

/// The jobs enqueued at each scheduled time, with the prefix of their dedupe keys.
const SCHEDULED: [(JobSpec, &str); 2] = [
    (JobSpec::TrainAll, "nightly"),
    (JobSpec::SweepSessions, "sweep"),
];

/// Enqueues the nightly jobs (retraining all models, sweeping ended sessions) at each
/// scheduled time. The dedupe key is the scheduled instant, so any number of schedulers
/// enqueue each run once.
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
        for (job, prefix) in &SCHEDULED {
            let key = format!("{prefix}:{}", next.to_rfc3339());
            match queue.enqueue(job, Duration::ZERO, Some(&key)).await {
                Ok(task) => tracing::info!(task = %task.task_id, %key, "scheduled job enqueued"),
                Err(error) => tracing::error!(%error, %key, "could not enqueue a scheduled job"),
            }
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
}
