//! The `siprems` command line: one binary for the server and the operator's tools.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{self, Application};
use crate::config::Config;
use crate::demo;
use crate::domain::auth::{self, Role};
use crate::domain::sku::Sku;
use crate::domain::users;
use crate::import;
use crate::observability;
use crate::services::Services;

mod progress;
use progress::TerminalProgress;

#[derive(Debug, Parser)]
#[command(name = "siprems", version, about = "SIPREMS retail back office")]
pub struct Cli {
    #[command(flatten)]
    config: Config,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (the default when no command is given).
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Load past sales from a CSV file: header `date,sku,quantity[,unit_price][,is_promo]`.
    Import {
        file: PathBuf,
        /// Create products for unknown SKUs instead of refusing the file.
        #[arg(long)]
        create_products: bool,
    },
    /// Train forecast models now, in this process.
    Train {
        /// Train this product only.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        sku: Option<Sku>,
        /// Train every active product.
        #[arg(long)]
        all: bool,
    },
    /// Backtest forecasts on files alone (no server, no database): for each cutoff and SKU,
    /// fit on history up to the cutoff and forecast the following days.
    Backtest {
        /// Sales history in the import format.
        #[arg(long)]
        history: PathBuf,
        /// Events CSV: `date,name[,type]`.
        #[arg(long)]
        events: Option<PathBuf>,
        /// Comma-separated cutoff dates, YYYY-MM-DD.
        #[arg(long)]
        cutoffs: String,
        /// Days to forecast after each cutoff.
        #[arg(long)]
        horizon: usize,
        /// Where to write `model,sku,cutoff,date,forecast,lower,upper`.
        #[arg(long)]
        out: PathBuf,
        /// `auto` picks the best backtested candidate per SKU and cutoff.
        #[arg(long, default_value = "auto")]
        model: String,
    },
    /// Run queued background jobs (training, asynchronous predictions).
    Worker,
    /// Enqueue the retraining of all models on the configured schedule.
    Scheduler,
    /// Load generated data.
    Seed {
        /// The demo shop: a few dozen products and two years of sales.
        #[arg(long, required = true)]
        demo: bool,
        /// Random seed; the same seed always gives the same shop.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Days of history to generate, ending yesterday.
        #[arg(long, default_value_t = 730)]
        days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account (for example the first admin of a PostgreSQL installation).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        full_name: String,
        /// Password; generated and printed when omitted.
        #[arg(long, env = "SIPREMS_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long, value_enum, default_value = "admin")]
        role: CliRole,
    },
    /// Set a user's password (generated and printed when omitted). The user must change it
    /// at their next opportunity; their sessions end.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "SIPREMS_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Approve a self-registered account: it becomes an active cashier.
    Approve {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CliRole {
    Admin,
    Cashier,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    observability::init_logging(cli.config.log_format);
    log_panics();
    // The long-running processes end with a log line that says why; the tools keep their
    // plain `error: ...` on stderr.
    let service = match cli.command {
        None | Some(Command::Serve) => Some("serve"),
        Some(Command::Worker) => Some("worker"),
        Some(Command::Scheduler) => Some("scheduler"),
        Some(_) => None,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    match (outcome, service) {
        (Ok(()), Some(process)) => {
            let signal = app::received_shutdown_signal().unwrap_or("none");
            tracing::info!(process, signal, "exiting: shut down on request");
            ExitCode::SUCCESS
        }
        (Ok(()), None) => ExitCode::SUCCESS,
        (Err(error), Some(process)) => {
            tracing::error!(process, error = format!("{error:#}"), "exiting on error");
            ExitCode::FAILURE
        }
        (Err(error), None) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Panics (in any thread or task) go to the log, with a backtrace when RUST_BACKTRACE
/// asks for one, instead of bare text on stderr.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            panic = %info,
            backtrace = %std::backtrace::Backtrace::capture(),
            "panicked"
        );
    }));
}

/// Runs a worker or scheduler loop until SIGINT/SIGTERM, then stops it. The loop ending
/// first (a panic, say) is an error: the process exits and says why rather than living on
/// idle.
async fn until_shutdown(
    what: &str,
    mut task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
) -> anyhow::Result<()> {
    tokio::select! {
        () = app::shutdown_signal() => {}
        outcome = &mut task => {
            return match outcome {
                Ok(()) => Err(anyhow::anyhow!("the {what} loop stopped by itself")),
                Err(error) => Err(anyhow::anyhow!("the {what} loop failed: {error}")),
            };
        }
    }
    let _ = stop.send(true);
    // Both loops return as soon as they see `stop` (a job still running is interrupted
    // and stays claimed until its heartbeat is missed); the bound is a backstop.
    if tokio::time::timeout(std::time::Duration::from_secs(10), &mut task)
        .await
        .is_err()
    {
        tracing::warn!("the {what} loop did not stop within 10 s; abandoning it");
        task.abort();
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run_until(app::shutdown_signal()).await
        }
        Command::Migrate => {
            let services = Services::build(config).await?;
            println!("database is up to date ({})", services.db.backend().name());
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            full_name,
            password,
            role,
        }) => {
            let services = Services::build(config).await?;
            let generated = password.is_none().then(auth::generate_password);
            let password = password.or_else(|| generated.clone()).unwrap_or_default();
            let role = match role {
                CliRole::Admin => Role::Admin,
                CliRole::Cashier => Role::Cashier,
            };
            // A printed password must be replaced by its user; one the operator chose need not.
            let must_change = generated.is_some();
            let user = auth::create_user(
                &services.db,
                &email,
                &full_name,
                &password,
                role,
                must_change,
            )
            .await?;
            println!(
                "created {} ({}) with id {}",
                user.email,
                role.as_str(),
                user.user_id
            );
            if let Some(password) = generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::User(UserCommand::ResetPassword { email, password }) => {
            let services = Services::build(config).await?;
            let user_id = users::id_by_email(&services.db, &email).await?;
            // No cache of this process holds the user; other instances notice within the
            // principal cache's lifetime.
            let authenticator = cli_authenticator()?;
            let reset = users::reset_password(
                &services.db,
                &authenticator,
                user_id,
                users::PasswordReset { password },
            )
            .await?;
            println!(
                "reset the password of {}; they must change it and were signed out",
                reset.user.email
            );
            if let Some(password) = reset.generated_password {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::User(UserCommand::Approve { email }) => {
            let services = Services::build(config).await?;
            let user_id = users::id_by_email(&services.db, &email).await?;
            let user = users::approve(&services.db, &cli_authenticator()?, user_id).await?;
            println!("approved {} ({})", user.email, user.role.as_str());
            Ok(())
        }
        Command::Import {
            file,
            create_products,
        } => {
            let services = Services::build(config).await?;
            let options = import::ImportOptions { create_products };
            let summary =
                import::import_file(&services.shop, &file, &options, &TerminalProgress::new())
                    .await
                    .with_context(|| format!("importing {}", file.display()))?;
            println!("{summary}");
            Ok(())
        }
        Command::Train { sku, all: _ } => {
            let services = Services::build(config).await?;
            let outcomes = match sku {
                Some(sku) => vec![services.forecaster.train_product(&sku).await?],
                None => services.forecaster.train_many(false).await?,
            };
            for outcome in &outcomes {
                println!(
                    "{:<16} {:<10} {:<8} {}",
                    outcome.product_sku,
                    outcome.outcome,
                    outcome.kind.as_deref().unwrap_or("-"),
                    outcome.detail
                );
            }
            Ok(())
        }
        Command::Backtest {
            history,
            events,
            cutoffs,
            horizon,
            out,
            model,
        } => {
            let choice: forecast::ModelChoice = model.parse().context("--model")?;
            let cutoffs = forecast::files::parse_cutoffs(&cutoffs).context("--cutoffs")?;
            let engine = forecast::Engine::lazy();
            let report = tokio::task::spawn_blocking(move || {
                forecast::files::run_backtest_files(
                    &history,
                    events.as_deref(),
                    &cutoffs,
                    horizon,
                    choice,
                    &out,
                    &engine,
                )
            })
            .await??;
            println!("{report}");
            Ok(())
        }
        Command::Worker => {
            let services = Services::build(config).await?;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let worker = tokio::spawn(async move { services.run_worker(stopped).await });
            until_shutdown("worker", worker, stop).await
        }
        Command::Scheduler => {
            let services = Services::build(config).await?;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let scheduler = tokio::spawn(async move { services.run_scheduler(stopped).await });
            until_shutdown("scheduler", scheduler, stop).await
        }
        Command::Seed {
            demo: _,
            seed,
            days,
        } => {
            let services = Services::build(config).await?;
            let options = demo::DemoOptions { seed, days };
            let summary =
                demo::seed_with_progress(&services.shop, &options, &TerminalProgress::new())
                    .await?;
            println!("{summary}");
            Ok(())
        }
    }
}

/// An authenticator for account commands that only need its cache-forgetting side (they
/// sign no tokens): a throwaway key.
fn cli_authenticator() -> anyhow::Result<auth::Authenticator> {
    Ok(auth::Authenticator::new(
        auth::generate_secret().as_bytes(),
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(1),
    )?)
}
