//! How the consequences of a write reach every process: cached answers through the
//! response cache's generation counters, retraining through the job queue.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::DomainResult;
use crate::domain::changes::{ChangeFuture, ChangeListener, Group, Retraining};
use crate::infra::cache::ResponseCache;
use crate::infra::queue::{JobQueue, JobSpec};

pub struct Propagation {
    cache: Arc<ResponseCache>,
    queue: JobQueue,
    /// Whether loading a history (`Retraining::Now`) trains at once; off in tests that
    /// load data and would otherwise spend their CPU on training they never look at.
    warm_up: bool,
}

impl Propagation {
    pub fn new(cache: Arc<ResponseCache>, queue: JobQueue, warm_up: bool) -> Self {
        Propagation {
            cache,
            queue,
            warm_up,
        }
    }
}

impl ChangeListener for Propagation {
    fn data_changed<'a>(&'a self, groups: &'a [Group]) -> ChangeFuture<'a, ()> {
        Box::pin(self.cache.invalidate(groups))
    }

    fn retrain_stale(&self, when: Retraining) -> ChangeFuture<'_, DomainResult<()>> {
        Box::pin(async move {
            match when {
                Retraining::Debounced => {
                    self.queue.retrain_stale_soon().await?;
                }
                Retraining::Now if self.warm_up => {
                    let task = self
                        .queue
                        .enqueue(&JobSpec::TrainStale, Duration::ZERO, None)
                        .await?;
                    tracing::info!(task = %task.task_id, "training the products of the loaded history in the background");
                }
                // The stale marks stay; the nightly run trains them.
                Retraining::Now => {}
            }
            Ok(())
        })
    }
}
