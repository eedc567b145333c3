//! Builds the application state from the configuration, once, and runs the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::demo;
use crate::domain::auth::{self, Authenticator};
use crate::domain::forecasting::{ForecastSettings, Forecaster};
use crate::domain::settings;
use crate::infra::cache::ResponseCache;
use crate::infra::model_store::{DatabaseModelStore, DirectoryModelStore, ModelStore};
use crate::infra::queue::{self, JobQueue};
use crate::infra::shared_store::{InProcessStore, RedisStore, SharedStore};
use crate::observability::RouteMetrics;
use crate::storage::{Backend, Db, secrets};

/// Everything a request handler may use. Cheap to clone; nothing in it is state another
/// instance would need (that lives in the database).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<Authenticator>,
    pub config: Arc<Config>,
    pub metrics: Arc<RouteMetrics>,
    pub forecaster: Arc<Forecaster>,
    pub jobs: JobQueue,
    /// Redis or this process: cache entries, rate-limit buckets, login back-off.
    pub shared: Arc<dyn SharedStore>,
    pub cache: Arc<ResponseCache>,
    pub started_at: Instant,
}

impl AppState {
    /// Connects, migrates and prepares a fresh database (settings, first admin, demo data).
    pub async fn build(config: Config) -> anyhow::Result<AppState> {
        let db = open_database(&config).await?;

        let secret = jwt_secret(&config, &db).await?;
        let auth = Authenticator::new(
            secret.as_bytes(),
            config.access_token_ttl(),
            config.refresh_token_ttl(),
        )?;

        if let Some(password) =
            auth::bootstrap_admin(&db, &config.admin_email, config.admin_password.as_deref())
                .await?
        {
            // Shown once: it is not stored anywhere in clear text.
            println!(
                "\n  Created the first admin account:\n    email:    {}\n    password: {password}\n  Change it after logging in.\n",
                config.admin_email
            );
        }
        if config.demo && demo::database_is_empty(&db).await? {
            tracing::info!("loading the demo shop into the empty database");
            demo::seed(&db, &demo::DemoOptions::default()).await?;
        }

        let shared = shared_store(&config).await?;
        let cache = Arc::new(ResponseCache::new(shared.clone()));
        let jobs = open_job_queue(&config).await?;
        Ok(AppState {
            forecaster: Arc::new(forecaster(&config, &db, cache.clone())?),
            shared,
            cache,
            jobs,
            db,
            auth: Arc::new(auth),
            config: Arc::new(config),
            metrics: Arc::new(RouteMetrics::default()),
            started_at: Instant::now(),
        })
    }
}

/// Connects and migrates: every command works on an up-to-date schema.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
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

/// The job queue, on PostgreSQL directly when DATABASE_MIGRATION_URL is set (the queue
/// needs a session, which pgBouncer in transaction mode does not give).
pub async fn open_job_queue(config: &Config) -> anyhow::Result<JobQueue> {
    JobQueue::connect(
        &config.database_url,
        config.database_migration_url.as_deref(),
    )
    .await
    .context("opening the job queue")
}

/// Redis when configured, this process's memory otherwise.
pub async fn shared_store(config: &Config) -> anyhow::Result<Arc<dyn SharedStore>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(
            RedisStore::connect(url, &config.redis_prefix)
                .await
                .context("REDIS_URL")?,
        ),
        None => Arc::new(InProcessStore::default()),
    })
}

/// The forecaster with the configured model store.
pub fn forecaster(
    config: &Config,
    db: &Db,
    cache: Arc<ResponseCache>,
) -> anyhow::Result<Forecaster> {
    let settings = ForecastSettings {
        tolerance: config.model_tolerance,
        choice: config.forecast_model,
        ..ForecastSettings::default()
    };
    Ok(Forecaster::new(
        db.clone(),
        model_store(config, db)?,
        cache,
        settings,
    ))
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

/// The signing secret: configured, or (embedded mode only) generated once and kept in
/// the database so tokens survive restarts.
async fn jwt_secret(config: &Config, db: &Db) -> anyhow::Result<String> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    match db.backend() {
        Backend::Sqlite => {
            Ok(secrets::get_or_insert(db.pool(), "jwt_secret", &auth::generate_secret()).await?)
        }
        Backend::Postgres => anyhow::bail!(
            "JWT_SECRET is required with PostgreSQL: every instance must sign tokens with the same secret"
        ),
    }
}

/// A bound, ready-to-run server. Tests bind port 0 and read the port back.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let bind = config.bind;
        let state = AppState::build(config).await?;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish. In the
    /// embedded mode the job runner and the retraining schedule run alongside.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        let (stop_background, stopped) = tokio::sync::watch::channel(false);
        let background = self.state.config.in_process_jobs.then(|| {
            let state = &self.state;
            let worker = tokio::spawn(queue::run_worker(
                state.jobs.clone(),
                state.forecaster.clone(),
                state.config.job_time_limit(),
                stopped.clone(),
            ));
            let scheduler = tokio::spawn(queue::run_scheduler(
                state.jobs.clone(),
                state.config.train_cron.clone(),
                stopped.clone(),
            ));
            (worker, scheduler)
        });
        tracing::info!(address = %self.local_addr(), database = self.state.db.backend().name(), "SIPREMS is listening");
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
        let _ = stop_background.send(true);
        if let Some((worker, scheduler)) = background {
            // A job still running is interrupted; it stays in the database and runs
            // again at the next start.
            worker.abort();
            scheduler.abort();
            let _ = worker.await;
            let _ = scheduler.await;
        }
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
