//! Builds the application state from the configuration, once, and runs the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::ConnectInfo;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::demo;
use crate::domain::auth::{self, Authenticator};
use crate::observability::Metrics;
use crate::services::Services;
use crate::storage::{Backend, Db, secrets};

/// Everything a request handler may use: the application's services, plus what only the
/// HTTP side has (token checks, request metrics). Cheap to clone; nothing in it is state
/// another instance would need (that lives in the database or the shared store).
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub auth: Arc<Authenticator>,
    pub metrics: Arc<Metrics>,
    pub started_at: Instant,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl AppState {
    /// Builds the services and prepares a fresh database (first admin, demo shop).
    pub async fn build(config: Config) -> anyhow::Result<AppState> {
        let services = Services::build(config).await?;
        let config = &services.config;
        let secret = jwt_secret(config, &services.db).await?;
        let auth = Authenticator::new(
            secret.as_bytes(),
            config.access_token_ttl(),
            config.refresh_token_ttl(),
        )?
        .with_sessions(config.session_max_age(), config.refresh_grace());

        if let Some(password) = auth::bootstrap_admin(
            &services.db,
            &config.admin_email,
            config.admin_password.as_deref(),
        )
        .await?
        {
            // Shown once: it is not stored anywhere in clear text.
            println!(
                "\n  Created the first admin account:\n    email:    {}\n    password: {password}\n  Change it after logging in.\n",
                config.admin_email
            );
        }
        if config.demo && demo::database_is_empty(&services.db).await? {
            tracing::info!("loading the demo shop into the empty database");
            demo::seed(&services.shop, &demo::DemoOptions::default()).await?;
        }
        Ok(AppState {
            services,
            auth: Arc::new(auth),
            metrics: Arc::new(Metrics::default()),
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

    /// Serves until `shutdown` resolves, then lets in-flight requests finish. In the
    /// embedded mode the job runner and the retraining schedule run alongside.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        let (stop_background, stopped) = tokio::sync::watch::channel(false);
        let mut background = vec![tokio::spawn({
            let services = self.state.services.clone();
            let stopped = stopped.clone();
            async move { services.follow_other_processes(stopped).await }
        })];
        if self.state.config.in_process_jobs {
            let services = self.state.services.clone();
            let worker_stopped = stopped.clone();
            background.push(tokio::spawn(async move {
                services.run_worker(worker_stopped).await
            }));
            let services = self.state.services.clone();
            background.push(tokio::spawn(async move {
                services.run_scheduler(stopped).await
            }));
        }
        tracing::info!(address = %self.local_addr(), database = self.state.db.backend().name(), "SIPREMS is listening");
        serve(
            self.listener,
            router,
            Duration::from_secs(self.state.config.header_read_timeout_secs.max(1)),
            shutdown,
        )
        .await;
        let _ = stop_background.send(true);
        // A job still running is interrupted; it stays in the database and runs again at
        // the next start.
        for task in background {
            task.abort();
            let _ = task.await;
        }
        self.state.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Serves HTTP/1.1 on `listener` until `shutdown` resolves, then waits for the open
/// connections to finish their requests. Like `axum::serve`, with one addition it cannot
/// configure: a client must send a request's headers within `header_read_timeout`
/// (hyper's timer-driven timeout), so half-sent requests cannot hold connections forever.
/// Handlers see the peer as `ConnectInfo<SocketAddr>`.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(request)
            },
        );
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::trace!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The signal `shutdown_signal` resolved on, for the process's last log line.
static SHUTDOWN_SIGNAL: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// `Some("SIGTERM")` (or `"SIGINT"`) once `shutdown_signal` has resolved.
pub fn received_shutdown_signal() -> Option<&'static str> {
    SHUTDOWN_SIGNAL.get().copied()
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. A handler that cannot be installed is logged
/// and never fires (it used to make the process stop at once, without a word).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let signal = tokio::select! {
        () = interrupt => "SIGINT",
        () = terminate => "SIGTERM",
    };
    let _ = SHUTDOWN_SIGNAL.set(signal);
    tracing::info!(signal, "shutdown requested; finishing in-flight requests");
}
