//! The application's services, built once from [`Config`] and shared by every entry point:
//! `serve`, `worker`, `scheduler`, `train`, `import`, `seed` (and the tests). Nothing else
//! wires dependencies; the HTTP handlers and the CLI commands are adapters over these.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::watch;

use crate::config::{AssistantProvider, Config};
use crate::domain::assistant::builtin::BuiltIn;
use crate::domain::assistant::history::{History, Limits};
use crate::domain::assistant::{Assistant, Backend};
use crate::domain::changes::Shop;
use crate::domain::forecasting::{ForecastSettings, Forecaster};
use crate::domain::settings;
use crate::infra::cache::ResponseCache;
use crate::infra::model_store::{DatabaseModelStore, DirectoryModelStore, ModelStore};
use crate::infra::propagation::Propagation;
use crate::infra::queue::{self, JobQueue};
use crate::infra::shared_store::{Caps, InProcessStore, RedisStore, SharedStore};
use crate::storage::Db;

/// Cheap to clone: every part is a handle.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    /// The database plus what each write sets in motion: what domain writes take.
    pub shop: Shop,
    /// Redis or this process: cache entries, rate-limit buckets, login back-off.
    pub shared: Arc<dyn SharedStore>,
    pub cache: Arc<ResponseCache>,
    pub queue: JobQueue,
    pub forecaster: Arc<Forecaster>,
    pub assistant: Arc<Assistant>,
}

impl Services {
    /// Connects to everything the configuration names and migrates the database, so every
    /// command works on an up-to-date schema.
    pub async fn build(config: Config) -> anyhow::Result<Services> {
        let db = open_database(&config).await?;
        let shared: Arc<dyn SharedStore> = match &config.redis_url {
            Some(url) => Arc::new(
                RedisStore::connect(url, &config.redis_prefix)
                    .await
                    .context("REDIS_URL")?,
            ),
            None => Arc::new(InProcessStore::with_caps(Caps {
                values: config.memory_store_max_entries.max(1),
                ..Caps::DEFAULT
            })),
        };
        // Without Redis the cache lives in this process, and only the database hears of
        // writes made by other processes (a worker, a CLI import).
        let cache = Arc::new(match &config.redis_url {
            Some(_) => ResponseCache::in_shared_store(shared.clone()),
            None => ResponseCache::with_database_generations(shared.clone(), db.clone()),
        });
        let queue = JobQueue::connect(
            &config.database_url,
            config.database_migration_url.as_deref(),
        )
        .await
        .context("opening the job queue")?;
        let propagation = Propagation::new(cache.clone(), queue.clone(), config.warm_up);
        let shop = Shop::new(db.clone(), Arc::new(propagation));
        let forecast_settings = ForecastSettings {
            tolerance: config.model_tolerance,
            choice: config.forecast_model,
            ..ForecastSettings::default()
        };
        let forecaster = Arc::new(Forecaster::new(
            shop.clone(),
            model_store(&config, &db)?,
            forecast_settings,
        ));
        let history = History::new(
            shared.clone(),
            Limits {
                ttl: config.chat_history_ttl(),
                max_turns: config.chat_history_turns.max(2),
                max_sessions: MAX_CHAT_SESSIONS,
            },
        );
        let assistant = Arc::new(Assistant::new(
            shop.clone(),
            forecaster.clone(),
            history,
            assistant_backend(&config)?,
        ));
        Ok(Services {
            config: Arc::new(config),
            db,
            shop,
            shared,
            cache,
            queue,
            forecaster,
            assistant,
        })
    }

    /// Runs queued jobs until `stop` turns true.
    pub async fn run_worker(&self, stop: watch::Receiver<bool>) {
        queue::run_worker(
            self.queue.clone(),
            self.forecaster.clone(),
            self.db.clone(),
            self.config.job_time_limit(),
            stop,
        )
        .await;
    }

    /// Enqueues the scheduled jobs (retraining, the session sweep) until `stop` turns true.
    pub async fn run_scheduler(&self, stop: watch::Receiver<bool>) {
        queue::run_scheduler(self.queue.clone(), self.config.train_cron.clone(), stop).await;
    }

    /// Keeps this process's cached answers in step with other processes' writes, until
    /// `stop` turns true (at once when they share Redis).
    pub async fn follow_other_processes(&self, stop: watch::Receiver<bool>) {
        self.cache.follow_other_processes(stop).await;
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Chat sessions kept per user (the most recently used).
const MAX_CHAT_SESSIONS: usize = 50;

/// Connects and migrates, through PostgreSQL directly when the pooled URL goes through
/// pgBouncer in transaction mode (migrations hold a session lock).
/// The built-in assistant, or the external chat model the configuration names.
fn assistant_backend(config: &Config) -> anyhow::Result<Backend> {
    let timeout = std::time::Duration::from_secs(config.assistant_timeout_secs.max(1));
    let provider = match config.assistant_provider {
        AssistantProvider::BuiltIn => return Ok(Backend::BuiltIn(BuiltIn)),
        AssistantProvider::Gemini => {
            let key = config
                .gemini_api_key
                .clone()
                .context("the gemini assistant needs GEMINI_API_KEY")?;
            let mut gemini = llm::GeminiConfig::new(key);
            gemini.model = config.gemini_model.clone();
            gemini.base_url = config.gemini_base_url.clone();
            gemini.timeout = timeout;
            llm::gemini(gemini)
        }
        AssistantProvider::OpenAi => {
            let model = config
                .openai_model
                .clone()
                .context("the openai assistant needs SIPREMS_OPENAI_MODEL")?;
            let mut openai = llm::OpenAiConfig::new(config.openai_base_url.clone(), model);
            openai.api_key = config.openai_api_key.clone();
            openai.timeout = timeout;
            llm::openai_compatible(openai)
        }
    };
    let provider = provider.map_err(|e| anyhow::anyhow!("assistant provider: {}", e.0))?;
    Ok(Backend::External(provider))
}

async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("connecting to the database")?;
    match &config.database_migration_url {
        Some(url) => {
            let direct = Db::connect(url, 1)
                .await
                .context("connecting to DATABASE_MIGRATION_URL")?;
            direct.migrate().await.context("migrating the database")?;
            direct.close().await;
        }
        None => db.migrate().await.context("migrating the database")?,
    }
    settings::initialize(&db, config.timezone).await?;
    Ok(db)
}

fn model_store(config: &Config, db: &Db) -> anyhow::Result<Arc<dyn ModelStore>> {
    match config.model_store.as_str() {
        "database" => Ok(Arc::new(DatabaseModelStore::new(db.clone()))),
        other => match other.strip_prefix("dir:") {
            Some(path) if !path.is_empty() => Ok(Arc::new(DirectoryModelStore::new(path))),
            _ => {
                anyhow::bail!("SIPREMS_MODEL_STORE must be `database` or `dir:PATH`, got {other:?}")
            }
        },
    }
}
