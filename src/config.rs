//! The one configuration struct. Every setting comes from a command-line flag or its
//! environment variable (`siprems serve --help` lists them all with their defaults).

use std::net::SocketAddr;
use std::time::Duration;

use chrono_tz::Tz;
use clap::Args;

use crate::http::proxies::TrustedProxies;
use crate::infra::queue::TrainingSchedule;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address the HTTP API listens on.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,

    /// `sqlite://FILE` (or a bare file path) for the embedded mode, `postgres://...` for
    /// PostgreSQL; add `?pgbouncer=true` when it goes through pgBouncer in transaction mode.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://siprems.db"
    )]
    pub database_url: String,

    /// PostgreSQL reached directly, for migrations, when DATABASE_URL goes through
    /// pgBouncer in transaction mode (`?pgbouncer=true`): migrations hold a session lock.
    #[arg(long, global = true, env = "DATABASE_MIGRATION_URL")]
    pub database_migration_url: Option<String>,

    /// Redis for the cache, rate limits and shared counters (`redis://host:port/db`);
    /// unset keeps them in this process (the embedded mode).
    #[arg(long, global = true, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Prefix of every key SIPREMS writes to Redis, so installations can share one.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_REDIS_PREFIX",
        default_value = "siprems:"
    )]
    pub redis_prefix: String,

    /// Enforce per-IP and per-user request rate limits (1) or not (0).
    #[arg(long, global = true, env = "SIPREMS_RATE_LIMITS", default_value = "1", value_parser = parse_flag)]
    pub rate_limits: bool,

    /// Trust X-Forwarded-For / X-Real-IP from loopback peers (a proxy on this host); kept
    /// for existing deployments, the same as SIPREMS_TRUSTED_PROXIES=127.0.0.0/8,::1.
    #[arg(long, global = true, env = "SIPREMS_TRUST_PROXY", default_value = "0", value_parser = parse_flag)]
    pub trust_proxy: bool,

    /// Proxies whose X-Forwarded-For / X-Real-IP is believed: comma-separated addresses or
    /// CIDR networks, e.g. `127.0.0.1,10.0.0.0/8`. The client is the right-most address
    /// not in this list. Empty (the default) trusts no one.
    #[arg(long, global = true, env = "SIPREMS_TRUSTED_PROXIES", default_value = "", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: TrustedProxies,

    /// Maximum connections in the database pool.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_DB_MAX_CONNECTIONS",
        default_value_t = 16
    )]
    pub db_max_connections: u32,

    /// Secret for signing tokens. Required with PostgreSQL; the embedded mode generates one
    /// and keeps it in the database.
    #[arg(long, global = true, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Email of the admin created on an empty database.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_ADMIN_EMAIL",
        default_value = "admin@siprems.local"
    )]
    pub admin_email: String,

    /// Password of that admin; without it a password is generated and printed once.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<String>,

    /// Load the demo shop into an empty database (1) or start empty (0).
    #[arg(long, global = true, env = "SIPREMS_DEMO", default_value = "1", value_parser = parse_flag)]
    pub demo: bool,

    /// The store's timezone for a new database; it decides what "a day" is in reports.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_TIMEZONE",
        default_value = "Asia/Jakarta"
    )]
    pub timezone: Tz,

    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_ACCESS_TOKEN_TTL",
        default_value_t = 900
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of refresh tokens, in seconds.
    #[arg(long, global = true, env = "SIPREMS_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_secs: u64,

    /// Absolute lifetime of a session (a login), in seconds: refreshing fails after it.
    #[arg(long, global = true, env = "SIPREMS_SESSION_MAX_AGE", default_value_t = 30 * 24 * 3600)]
    pub session_max_age_secs: u64,

    /// Seconds during which presenting a just-spent refresh token again returns the same
    /// new pair (two tabs, a retried request) instead of ending the session as a reuse.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_REFRESH_GRACE",
        default_value_t = 30
    )]
    pub refresh_grace_secs: u64,

    /// Whether anyone may register (`POST /api/auth/register`); such accounts wait for an
    /// admin's approval. Closed (0) by default: the owner creates the accounts.
    #[arg(long, global = true, env = "SIPREMS_OPEN_REGISTRATION", default_value = "0", value_parser = parse_flag)]
    pub open_registration: bool,

    /// Largest accepted request body, in bytes.
    #[arg(long, global = true, env = "SIPREMS_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Time limit for one request, in seconds.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_REQUEST_TIMEOUT",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,

    /// Seconds a client has to send a request's headers (also how long an idle keep-alive
    /// connection stays open); a slower client is disconnected, so stalled connections
    /// cannot pile up.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_HEADER_READ_TIMEOUT",
        default_value_t = 10
    )]
    pub header_read_timeout_secs: u64,

    /// Without Redis: most cached answers and other values kept in this process's memory
    /// (the oldest go first past it). Redis bounds itself with its own maxmemory.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_MEMORY_STORE_MAX_ENTRIES",
        default_value_t = 50_000
    )]
    pub memory_store_max_entries: usize,

    /// Where trained models are kept: `database`, or `dir:PATH` for a (shared) directory.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_MODEL_STORE",
        default_value = "database"
    )]
    pub model_store: String,

    /// When all models are retrained: cron with seconds, UTC (`0 0 2 * * *` = 02:00).
    #[arg(
        long,
        global = true,
        env = "SIPREMS_TRAIN_CRON",
        default_value = "0 0 2 * * *"
    )]
    pub train_cron: TrainingSchedule,

    /// Run background jobs and the schedule inside `serve` (the embedded mode); `0` leaves
    /// them to separate worker and scheduler processes.
    #[arg(long, global = true, env = "SIPREMS_IN_PROCESS_JOBS", default_value = "1", value_parser = parse_flag)]
    pub in_process_jobs: bool,

    /// After the demo shop or an import is loaded, train every affected product at once in
    /// the background; `0` leaves them to the nightly run (test servers that load data but
    /// never forecast it).
    #[arg(long, global = true, env = "SIPREMS_WARM_UP", default_value = "1", value_parser = parse_flag)]
    pub warm_up: bool,

    /// Time limit for one background job, in seconds.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_JOB_TIME_LIMIT",
        default_value_t = 1800
    )]
    pub job_time_limit_secs: u64,

    /// Which forecast model to train: `auto` (the best backtested candidate per product),
    /// `prophet`, `ets`, `naive` or `ensemble` (Prophet and ETS weighted by backtest error).
    #[arg(long, global = true, env = "SIPREMS_FORECAST_MODEL", default_value = "auto", value_parser = parse_model_choice)]
    pub forecast_model: forecast::ModelChoice,

    /// How much worse (as a fraction of MASE) a new model may be than the active one.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_MODEL_TOLERANCE",
        default_value_t = 0.10
    )]
    pub model_tolerance: f64,

    /// How long a chat conversation is kept after its last use, in seconds.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_CHAT_HISTORY_TTL",
        default_value_t = 86_400
    )]
    pub chat_history_ttl_secs: u64,

    /// Turns (messages and tool rounds) kept per chat conversation; older ones are dropped.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_CHAT_HISTORY_TURNS",
        default_value_t = 50
    )]
    pub chat_history_turns: usize,

    /// Who answers chat questions: `builtin` (offline, no key), `gemini`, or `openai` (any
    /// OpenAI-compatible chat-completions endpoint: OpenAI, llama.cpp, Ollama, vLLM).
    #[arg(
        long,
        global = true,
        env = "SIPREMS_ASSISTANT_PROVIDER",
        default_value = "builtin"
    )]
    pub assistant_provider: AssistantProvider,

    /// Gemini API key (with `--assistant-provider gemini`); sent only in a header.
    #[arg(long, global = true, env = "GEMINI_API_KEY", hide_env_values = true)]
    pub gemini_api_key: Option<String>,

    #[arg(long, global = true, env = "SIPREMS_GEMINI_MODEL", default_value = llm::DEFAULT_GEMINI_MODEL)]
    pub gemini_model: String,

    /// Where the Gemini API is (a proxy, or a test's stub).
    #[arg(long, global = true, env = "SIPREMS_GEMINI_BASE_URL", default_value = llm::DEFAULT_GEMINI_BASE_URL)]
    pub gemini_base_url: String,

    /// An OpenAI-compatible endpoint up to its version (`/chat/completions` is appended).
    #[arg(
        long,
        global = true,
        env = "SIPREMS_OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub openai_base_url: String,

    /// The model's name as that endpoint knows it (required with `openai`).
    #[arg(long, global = true, env = "SIPREMS_OPENAI_MODEL")]
    pub openai_model: Option<String>,

    /// Sent as `Authorization: Bearer` when set; local servers usually need none.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_OPENAI_API_KEY",
        hide_env_values = true
    )]
    pub openai_api_key: Option<String>,

    /// Seconds one call to an external provider may take (a streamed answer included).
    #[arg(
        long,
        global = true,
        env = "SIPREMS_ASSISTANT_TIMEOUT",
        default_value_t = 30
    )]
    pub assistant_timeout_secs: u64,

    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(
        long,
        global = true,
        env = "SIPREMS_LOG_FORMAT",
        default_value = "pretty"
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AssistantProvider {
    #[value(name = "builtin")]
    BuiltIn,
    Gemini,
    #[value(name = "openai")]
    OpenAi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

fn parse_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("expected 1 or 0, got {other:?}")),
    }
}

fn parse_model_choice(value: &str) -> Result<forecast::ModelChoice, String> {
    value
        .parse()
        .map_err(|e: forecast::ForecastError| e.to_string())
}

impl Config {
    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_ttl_secs)
    }

    pub fn session_max_age(&self) -> Duration {
        Duration::from_secs(self.session_max_age_secs)
    }

    pub fn refresh_grace(&self) -> Duration {
        Duration::from_secs(self.refresh_grace_secs)
    }

    pub fn job_time_limit(&self) -> Duration {
        Duration::from_secs(self.job_time_limit_secs)
    }

    pub fn chat_history_ttl(&self) -> Duration {
        Duration::from_secs(self.chat_history_ttl_secs.max(1))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// The proxies whose forwarded addresses are believed: SIPREMS_TRUSTED_PROXIES, plus
    /// loopback under SIPREMS_TRUST_PROXY=1.
    pub fn proxy_peers(&self) -> TrustedProxies {
        if self.trust_proxy {
            TrustedProxies::loopback().with(&self.trusted_proxies)
        } else {
            self.trusted_proxies.clone()
        }
    }

    /// A configuration with every default, as tests and tools start from.
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        <Wrapper as clap::Parser>::parse_from(["siprems"]).config
    }
}
