//! What a write sets in motion beyond its own rows. The shop's rules decide *what* changed
//! (the groups of data, which products need a new model); infrastructure decides how every
//! process hears of it (generation counters in Redis or the database, jobs in the queue).
//! Every domain write reports its own consequences here, so no caller has to remember them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::DomainResult;
use crate::storage::Db;

/// Data that changes together. A write names the groups it changed; every answer computed
/// from them is stale from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// Products, prices, stock, categories and store settings.
    Catalog,
    /// Sales and what is computed from them.
    Sales,
    /// Forecasts and restock advice (they also read stock and events).
    Forecasts,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Catalog, Group::Sales, Group::Forecasts];

    pub fn name(self) -> &'static str {
        match self {
            Group::Catalog => "catalog",
            Group::Sales => "sales",
            Group::Forecasts => "forecasts",
        }
    }
}

/// When products marked stale should get their new models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retraining {
    /// After a short quiet period, so that a burst of edits costs one training run.
    Debounced,
    /// As soon as a worker is free: a whole history was just loaded and nothing can be
    /// forecast until it is trained.
    Now,
}

pub type ChangeFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where writes announce their consequences.
pub trait ChangeListener: Send + Sync {
    /// Answers computed from `groups` are stale, in this process and every other one.
    fn data_changed<'a>(&'a self, groups: &'a [Group]) -> ChangeFuture<'a, ()>;
    /// Schedules the training of every product marked stale (the mark is written in the
    /// same transaction as the change that causes it, so nothing is lost if this fails).
    fn retrain_stale(&self, when: Retraining) -> ChangeFuture<'_, DomainResult<()>>;
}

/// The shop's data and the listener that hears of every change to it: what each domain
/// write takes. Reads need only [`Shop::db`].
#[derive(Clone)]
pub struct Shop {
    pub db: Db,
    listener: Arc<dyn ChangeListener>,
}

impl Shop {
    pub fn new(db: Db, listener: Arc<dyn ChangeListener>) -> Self {
        Shop { db, listener }
    }

    pub async fn changed(&self, groups: &[Group]) {
        self.listener.data_changed(groups).await;
    }

    pub async fn retrain_stale(&self, when: Retraining) -> DomainResult<()> {
        self.listener.retrain_stale(when).await
    }
}
