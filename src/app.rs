//! Builds the application state from the configuration, once, and runs the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::domain::auth::{self, Authenticator};
use crate::domain::{demo, settings};
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
    pub started_at: Instant,
}

impl AppState {
    /// Connects, migrates and prepares a fresh database (settings, first admin, demo data).
    pub async fn build(config: Config) -> anyhow::Result<AppState> {
        let db = Db::connect(&config.database_url, config.db_max_connections)
            .await
            .context("connecting to the database")?;
        db.migrate().await.context("migrating the database")?;
        settings::initialize(&db, config.timezone).await?;

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

        Ok(AppState {
            db,
            auth: Arc::new(auth),
            config: Arc::new(config),
            metrics: Arc::new(RouteMetrics::default()),
            started_at: Instant::now(),
        })
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

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        tracing::info!(address = %self.local_addr(), database = self.state.db.backend().name(), "SIPREMS is listening");
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
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
