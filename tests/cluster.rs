//! Cluster tests (issue #4, item 8): the scaled topology of `deploy/` on one machine, driven
//! through nginx while instances are killed or restarted and Redis goes away.
//!
//! Each test starts its own cluster with `deploy/local-cluster.sh` (pgBouncer in transaction
//! mode, N `siprems serve`, workers, scheduler, nginx), with this crate's `siprems` binary,
//! its own base port, database (`siprems_cluster_test_NAME`, emptied by `--fresh`), data
//! dir (`$TMPDIR/siprems-cluster-test-NAME`) and private `redis-server`, and always stops it
//! again (a drop guard, also on panic or timeout: a failed test prints the log tails and
//! keeps its data dir for inspection; a passed one removes it unless
//! `SIPREMS_CLUSTER_TEST_KEEP` is set). Two runs of the same test on one machine take turns
//! (a lock next to the data dir) instead of tearing down each other's cluster.
//!
//! Needs what `local-cluster.sh` needs: PostgreSQL on 127.0.0.1:5432 (trust auth, user
//! `postgres`), `nginx`, `pgbouncer`, `psql`, `curl`, plus `redis-server`, and `python3` for
//! `cluster-smoke.sh`. Ports: 20 from `SIPREMS_CLUSTER_TEST_PORT` (default 17100) plus
//! 100 × the test's slot (0-4). `SIPREMS_CLUSTER_TEST_POOL_MODE=session` runs them with
//! session pooling instead.
//!
//! The load generator: a few clients looping over `GET /api/products?limit=5`,
//! `GET /api/products/SKU` and a checkout of one unit with its own `Idempotency-Key`. A GET
//! is sent once: it must succeed (nginx re-sends idempotent requests to another instance).
//! A checkout is re-sent by the client with the same key on a transport error, 502/503/504
//! or a 409 "still being processed", as a till would; it fails only if it never gets a 201.
//! Afterwards every key must map to exactly one sale, no other sale may exist, and the stock
//! must equal the start minus the units sold.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/local-cluster.sh");
const BINARY: &str = env!("CARGO_BIN_EXE_siprems");
const ADMIN_EMAIL: &str = "cluster-admin@test.shop";
const ADMIN_PASSWORD: &str = "cluster-admin-password-123";

// ---- the cluster ------------------------------------------------------------------------

struct Options {
    /// Names the data dir and the database; must be a lower-case identifier.
    name: &'static str,
    /// Distinct per test: base port = SIPREMS_CLUSTER_TEST_PORT (17100) + 100 × slot.
    slot: u16,
    apis: usize,
    workers: usize,
    rate_limits: bool,
}

/// A running cluster; dropping it stops every process (`local-cluster.sh down`) and its
/// Redis.
struct Cluster {
    /// Released (dropped) after `Drop::drop` has stopped everything.
    _lock: RunLock,
    dir: PathBuf,
    url: String,
    apis: Vec<String>,
    database_url: String,
    redis: RedisServer,
    http: reqwest::Client,
}

impl Cluster {
    async fn up(options: Options) -> Cluster {
        let base: u16 = std::env::var("SIPREMS_CLUSTER_TEST_PORT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(17100);
        let base = base + 100 * options.slot;
        let dir = std::env::temp_dir().join(format!("siprems-cluster-test-{}", options.name));
        // Another run of this very test (another checkout's `cargo nextest run`, say) uses
        // the same ports, database and data dir: wait for it rather than tear it down.
        let lock = RunLock::acquire(&dir.with_extension("lock")).await;
        // Leftovers of an earlier run that was killed before its guard ran: the script stops
        // only processes that carry this data dir, so this never touches anyone else's.
        if dir.join("cluster.env").exists() {
            let _ = script(
                &["down", "--data-dir", path_str(&dir)],
                Duration::from_secs(60),
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the data dir");
        let redis = RedisServer::start(base + 5, &dir).await;
        let mut guard = Cluster {
            _lock: lock,
            dir: dir.clone(),
            url: format!("http://127.0.0.1:{base}"),
            apis: Vec::new(),
            database_url: String::new(),
            redis,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .connect_timeout(Duration::from_secs(3))
                .build()
                .expect("http client"),
        };
        let mut args: Vec<String> = vec![
            "up".into(),
            "--fresh".into(),
            "--binary".into(),
            BINARY.into(),
            "--data-dir".into(),
            path_str(&dir).into(),
        ];
        for (option, value) in [
            ("--api", options.apis.to_string()),
            ("--workers", options.workers.to_string()),
            ("--base-port", base.to_string()),
            (
                "--db-name",
                format!("siprems_cluster_test_{}", options.name),
            ),
            ("--redis-url", format!("redis://127.0.0.1:{}/0", base + 5)),
            ("--timeout", "60".into()),
        ] {
            args.extend([option.into(), value]);
        }
        if !options.rate_limits {
            args.push("--no-rate-limits".into());
        }
        if let Ok(mode) = std::env::var("SIPREMS_CLUSTER_TEST_POOL_MODE") {
            args.extend(["--pool-mode".into(), mode]);
        }
        let started = Instant::now();
        let output = blocking(move || script(&args, Duration::from_secs(150))).await;
        assert!(output.ok, "local-cluster.sh up failed:\n{}", output.text);
        println!(
            "cluster {}: up in {:.1} s ({} api, {} worker(s), base port {base})",
            options.name,
            started.elapsed().as_secs_f64(),
            options.apis,
            options.workers
        );
        let env = cluster_env(&dir);
        guard.apis = env["SIPREMS_CLUSTER_API_URLS"]
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        guard.database_url = env["SIPREMS_CLUSTER_DATABASE_URL"].clone();
        assert_eq!(guard.url, env["SIPREMS_CLUSTER_URL"]);
        assert_eq!(guard.apis.len(), options.apis);
        guard
    }

    fn api_url(&self, index: usize) -> &str {
        &self.apis[index - 1]
    }

    /// `local-cluster.sh stop|start|restart api-K` (blocking work off the runtime threads).
    async fn control(&self, command: &'static str, name: String) -> Duration {
        let dir = self.dir.clone();
        let started = Instant::now();
        let output = blocking(move || {
            script(
                &[command, &name, "--data-dir", path_str(&dir)],
                Duration::from_secs(90),
            )
        })
        .await;
        assert!(
            output.ok,
            "local-cluster.sh {command} failed:\n{}",
            output.text
        );
        started.elapsed()
    }

    fn pid(&self, name: &str) -> u32 {
        let file = self.dir.join("run").join(format!("{name}.pid"));
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
            .trim()
            .parse()
            .expect("a pid")
    }

    async fn login(&self) -> Tokens {
        let response = self
            .http
            .post(format!("{}/api/auth/login", self.url))
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login request");
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::OK, "login: {body}");
        Tokens {
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }

    async fn create_product(&self, token: &str, sku: &str, stock: i64) {
        let response = self
            .http
            .post(format!("{}/api/products", self.url))
            .bearer_auth(token)
            .json(
                &json!({"sku": sku, "name": format!("Cluster bread {sku}"), "category": "Bread",
                "price": "18500", "cost_price": "11000", "stock": stock}),
            )
            .send()
            .await
            .expect("create product request");
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::CREATED, "create {sku}: {body}");
    }

    async fn stock(&self, token: &str, base: &str, sku: &str) -> i64 {
        let (status, body) =
            get_json(&self.http, &format!("{base}/api/products/{sku}"), token).await;
        assert_eq!(status, StatusCode::OK, "GET product {sku}: {body}");
        body["stock"].as_i64().expect("stock")
    }

    /// Every sale holding `sku`: transaction id -> units of `sku`.
    async fn sales_of(&self, token: &str, sku: &str) -> BTreeMap<i64, i64> {
        let mut sales = BTreeMap::new();
        let mut offset = 0;
        loop {
            let url = format!("{}/api/transactions?limit=500&offset={offset}", self.url);
            let (status, body) = get_json(&self.http, &url, token).await;
            assert_eq!(status, StatusCode::OK, "GET /api/transactions: {body}");
            let items = body["items"].as_array().expect("items");
            for sale in items {
                let units: i64 = sale["items"]
                    .as_array()
                    .expect("sale lines")
                    .iter()
                    .filter(|line| line["product_sku"] == sku)
                    .map(|line| line["quantity"].as_i64().expect("quantity"))
                    .sum();
                if units > 0 {
                    let id = sale["transaction_id"].as_i64().expect("transaction_id");
                    assert!(sales.insert(id, units).is_none(), "sale {id} listed twice");
                }
            }
            offset += items.len();
            if items.is_empty() || offset as i64 >= body["total"].as_i64().expect("total") {
                return sales;
            }
        }
    }

    /// Requests to `/api/...` routes this instance has answered since it started.
    async fn api_requests(&self, index: usize) -> Option<u64> {
        let url = format!("{}/metrics", self.api_url(index));
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        Some(
            body["routes"]
                .as_object()?
                .iter()
                .filter(|(route, _)| route.contains(" /api/"))
                .map(|(_, stats)| stats["count"].as_u64().unwrap_or(0))
                .sum(),
        )
    }

    async fn ready(&self, base: &str) -> Option<(StatusCode, Value)> {
        let response = self
            .http
            .get(format!("{base}/ready"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let status = response.status();
        Some((status, response.json().await.ok()?))
    }

    /// The upstream address nginx logged for the request with this X-Request-ID (nginx
    /// writes the line just after the response, so it is polled for).
    async fn upstream_of(&self, request_id: &str) -> String {
        let log = self.dir.join("log/nginx-access.log");
        let line = poll(
            "the request in the access log",
            Duration::from_secs(5),
            || {
                let log = &log;
                async move {
                    std::fs::read_to_string(log)
                        .ok()?
                        .lines()
                        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                        .find(|entry| entry["request_id"] == request_id)
                }
            },
        )
        .await;
        let upstream = line["upstream"].as_str().expect("upstream").to_owned();
        // "a, b" when nginx tried more than one instance: the last one answered.
        upstream.rsplit(", ").next().unwrap_or_default().to_owned()
    }

    fn print_logs(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("log")) else {
            return;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("----- last lines of {} -----", file.display());
            for line in &lines[lines.len().saturating_sub(25)..] {
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if failed {
            self.print_logs();
        }
        // The database stays: the next run empties it (`--fresh`), which is much cheaper
        // than DROP DATABASE (an immediate checkpoint of the whole server).
        let started = Instant::now();
        let output = script(
            &["down", "--data-dir", path_str(&self.dir)],
            Duration::from_secs(120),
        );
        if !output.ok {
            eprintln!("local-cluster.sh down failed:\n{}", output.text);
        }
        self.redis.stop();
        println!("cluster down in {:.1} s", started.elapsed().as_secs_f64());
        if failed || !output.ok || std::env::var_os("SIPREMS_CLUSTER_TEST_KEEP").is_some() {
            eprintln!(
                "cluster data dir kept for inspection: {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A lock directory naming its holder's pid; a holder that died without releasing it is
/// noticed (no such process) and its lock taken over.
struct RunLock {
    path: PathBuf,
}

impl RunLock {
    async fn acquire(path: &Path) -> RunLock {
        let owner = path.join("pid");
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut waiting_for = None;
        loop {
            if std::fs::create_dir(path).is_ok() {
                std::fs::write(&owner, std::process::id().to_string()).expect("lock pid");
                return RunLock {
                    path: path.to_owned(),
                };
            }
            // No pid yet: its holder has just created it.
            if let Ok(pid) = std::fs::read_to_string(&owner) {
                let pid = pid.trim().to_owned();
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir_all(path);
                    continue;
                }
                if waiting_for.as_ref() != Some(&pid) {
                    println!("waiting for another run of this test (pid {pid}) to finish");
                    waiting_for = Some(pid);
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} is still held by pid {waiting_for:?} after 180 s",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

struct Tokens {
    access: String,
    refresh: String,
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

struct ScriptOutput {
    ok: bool,
    text: String,
}

/// Runs `local-cluster.sh ARGS` (see [`run`]).
fn script<S: AsRef<str>>(args: &[S], limit: Duration) -> ScriptOutput {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let mut command = Command::new("bash");
    command
        .arg(SCRIPT)
        .args(&args)
        .env("SIPREMS_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SIPREMS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("SIPREMS_LOG_FORMAT", "json")
        // Forecasts in a debug build: the cheap model keeps predict well under a second.
        .env("SIPREMS_FORECAST_MODEL", "ets")
        .env_remove("SIPREMS_REDIS_PREFIX")
        .env_remove("SIPREMS_DB_MAX_CONNECTIONS");
    run(
        command,
        &format!("local-cluster.sh {}", args.join(" ")),
        limit,
    )
}

/// Runs a command to its end, killed after `limit`. Output goes through a file so a chatty
/// command can never block on a full pipe.
fn run(mut command: Command, what: &str, limit: Duration) -> ScriptOutput {
    let out = tempfile_path("output");
    let file = std::fs::File::create(&out).expect("output file");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("dup"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    if status.is_none() {
        text.push_str(&format!("\n(killed after {} s)", limit.as_secs()));
    }
    ScriptOutput {
        ok: status.is_some_and(|s| s.success()),
        text: format!("$ {what}\n{text}"),
    }
}

fn tempfile_path(what: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "siprems-cluster-test-{what}-{}-{}.out",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// `cluster.env`, as `local-cluster.sh env` prints it.
fn cluster_env(dir: &Path) -> BTreeMap<String, String> {
    let output = script(
        &["env", "--data-dir", path_str(dir)],
        Duration::from_secs(30),
    );
    assert!(output.ok, "{}", output.text);
    output
        .text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

/// Bounds a test body; on timeout the panic happens while the cluster is still alive, so
/// its guard prints the logs.
async fn bounded<T>(seconds: u64, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), body)
        .await
        .unwrap_or_else(|_| panic!("the test body did not finish within {seconds} s"))
}

/// Polls `check` every 100 ms until it yields a value; panics after `limit`.
async fn poll<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> (StatusCode, Value) {
    read(
        http.get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request"),
    )
    .await
}

// ---- a private Redis ----------------------------------------------------------------------

struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    async fn start(port: u16, dir: &Path) -> RedisServer {
        let mut server = RedisServer {
            port,
            dir: dir.to_owned(),
            child: None,
        };
        server.launch().await;
        server
    }

    async fn launch(&mut self) {
        assert!(self.child.is_none(), "redis-server already runs");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("redis.log"))
            .expect("redis log");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                path_str(&self.dir),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("starting redis-server (apt-get install redis-server)");
        self.child = Some(child);
        let port = self.port;
        poll(
            "redis-server to answer PING",
            Duration::from_secs(10),
            || async move { redis_ping(port).then_some(()) },
        )
        .await;
    }

    /// SIGTERM (a clean shutdown; nothing is saved), bounded; SIGKILL after 5 s.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn redis_ping(port: u16) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_millis(500)))?;
        stream.write_all(b"PING\r\n")?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply)?;
        Ok(&reply == b"+PONG\r\n")
    };
    attempt().unwrap_or(false)
}

// ---- the load generator ------------------------------------------------------------------

#[derive(Clone)]
struct LoadSpec {
    clients: usize,
    base: String,
    token: String,
    sku: String,
    key_prefix: String,
}

#[derive(Default)]
struct Counters {
    gets_ok: AtomicU64,
    checkouts_ok: AtomicU64,
}

struct Load {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    started: Instant,
    clients: Vec<tokio::task::JoinHandle<LoadReport>>,
}

/// What the clients saw (each client's, then all of them merged).
#[derive(Default)]
struct LoadReport {
    elapsed: Duration,
    gets: u64,
    get_failures: Vec<String>,
    get_max: Duration,
    /// Idempotency key -> transaction id, for every checkout that got its 201.
    sales: BTreeMap<String, i64>,
    checkout_failures: Vec<String>,
    /// Slowest checkout, its retries included.
    checkout_max: Duration,
    /// Re-sent checkouts (same key), by what made the client retry.
    retries: BTreeMap<String, u64>,
    /// 201s marked `Idempotent-Replayed` (an earlier attempt had committed).
    replayed: u64,
}

impl Load {
    fn start(http: &reqwest::Client, spec: LoadSpec) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let clients = (0..spec.clients)
            .map(|client| {
                let (http, spec) = (http.clone(), spec.clone());
                let (stop, counters) = (stop.clone(), counters.clone());
                tokio::spawn(run_client(http, spec, client, stop, counters))
            })
            .collect();
        Load {
            stop,
            counters,
            started: Instant::now(),
            clients,
        }
    }

    fn successes(&self) -> u64 {
        self.counters.gets_ok.load(Ordering::Relaxed)
            + self.counters.checkouts_ok.load(Ordering::Relaxed)
    }

    /// Lets the load run for at least `at_least` and `more` further successful requests
    /// (polled; at most 20 s beyond `at_least`); returns the successes in that time.
    async fn run_for(&self, at_least: Duration, more: u64) -> u64 {
        let (start, started) = (self.successes(), Instant::now());
        poll(
            &format!("{more} more successful requests"),
            at_least + Duration::from_secs(20),
            || async move {
                (self.successes() >= start + more && started.elapsed() >= at_least).then_some(())
            },
        )
        .await;
        self.successes() - start
    }

    /// Stops the clients after their current iteration (a checkout in flight is finished,
    /// retries included) and merges their reports.
    async fn finish(mut self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let clients = std::mem::take(&mut self.clients);
        let mut report = LoadReport {
            elapsed: self.started.elapsed(),
            ..LoadReport::default()
        };
        for client in clients {
            let part = tokio::time::timeout(Duration::from_secs(60), client)
                .await
                .expect("a load client did not stop within 60 s")
                .expect("load client panicked");
            report.gets += part.gets;
            report.get_failures.extend(part.get_failures);
            report.get_max = report.get_max.max(part.get_max);
            report.sales.extend(part.sales);
            report.checkout_failures.extend(part.checkout_failures);
            report.checkout_max = report.checkout_max.max(part.checkout_max);
            for (reason, n) in part.retries {
                *report.retries.entry(reason).or_default() += n;
            }
            report.replayed += part.replayed;
        }
        report
    }
}

/// A test that panics mid-load must not leave clients hammering the cluster while it stops.
impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for client in &self.clients {
            client.abort();
        }
    }
}

impl LoadReport {
    fn print(&self, test: &str) {
        println!(
            "{test}: {:.1} s of load: {} GETs ({} failed, slowest {} ms), {} checkouts ({} failed, slowest {} ms incl. retries), \
             {} replayed, retries {:?}",
            self.elapsed.as_secs_f64(),
            self.gets,
            self.get_failures.len(),
            self.get_max.as_millis(),
            self.sales.len(),
            self.checkout_failures.len(),
            self.checkout_max.as_millis(),
            self.replayed,
            self.retries
        );
    }

    fn assert_no_failures(&self) {
        assert!(
            self.get_failures.is_empty(),
            "{} of {} GETs failed: {:#?}",
            self.get_failures.len(),
            self.gets,
            self.get_failures
        );
        assert!(
            self.checkout_failures.is_empty(),
            "{} checkouts never succeeded: {:#?}",
            self.checkout_failures.len(),
            self.checkout_failures
        );
        assert!(
            self.gets > 0 && !self.sales.is_empty(),
            "the load did nothing"
        );
    }

    /// Exactly one sale per key, nothing else sold, stock = start − units sold.
    async fn assert_sales(&self, cluster: &Cluster, token: &str, sku: &str, start_stock: i64) {
        let recorded = cluster.sales_of(token, sku).await;
        let answered: BTreeSet<i64> = self.sales.values().copied().collect();
        assert_eq!(
            answered.len(),
            self.sales.len(),
            "two idempotency keys were answered with the same sale"
        );
        let in_db: BTreeSet<i64> = recorded.keys().copied().collect();
        let lost: Vec<_> = answered.difference(&in_db).collect();
        let extra: Vec<_> = in_db.difference(&answered).collect();
        assert!(
            lost.is_empty(),
            "sales answered to clients but not recorded: {lost:?}"
        );
        assert!(
            extra.is_empty(),
            "sales recorded that no client got as its answer (duplicates): {extra:?}"
        );
        assert!(recorded.values().all(|&units| units == 1), "{recorded:?}");
        let stock = cluster.stock(token, &cluster.url, sku).await;
        assert_eq!(
            stock,
            start_stock - self.sales.len() as i64,
            "stock after {} one-unit sales",
            self.sales.len()
        );
    }
}

async fn run_client(
    http: reqwest::Client,
    spec: LoadSpec,
    client: usize,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> LoadReport {
    let mut report = LoadReport::default();
    let gets = [
        format!("{}/api/products?limit=5", spec.base),
        format!("{}/api/products/{}", spec.base, spec.sku),
    ];
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let url = &gets[n % gets.len()];
        let started = Instant::now();
        let outcome = http.get(url).bearer_auth(&spec.token).send().await;
        let elapsed = started.elapsed();
        report.gets += 1;
        report.get_max = report.get_max.max(elapsed);
        match outcome {
            Ok(response) if response.status() == StatusCode::OK => {
                // The whole body must arrive too.
                match response.bytes().await {
                    Ok(_) => {
                        counters.gets_ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => report.get_failures.push(format!("GET {url}: body: {e}")),
                }
            }
            Ok(response) => {
                let request_id = header(&response, "x-request-id");
                let (status, body) = read(response).await;
                report.get_failures.push(format!(
                    "GET {url}: {status} after {} ms (X-Request-ID {request_id}): {body}",
                    elapsed.as_millis()
                ));
            }
            Err(e) => report.get_failures.push(format!(
                "GET {url}: transport error after {} ms: {e:?}",
                elapsed.as_millis()
            )),
        }

        let key = format!("{}-c{client}-{n}", spec.key_prefix);
        let started = Instant::now();
        match checkout(&http, &spec, &key, &mut report).await {
            Ok(id) => {
                report.sales.insert(key, id);
                counters.checkouts_ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => report.checkout_failures.push(format!("{key}: {e}")),
        }
        report.checkout_max = report.checkout_max.max(started.elapsed());
    }
    report
}

/// One checkout of one unit, re-sent with the same key until it gets a 201 (at most 30 s).
async fn checkout(
    http: &reqwest::Client,
    spec: &LoadSpec,
    key: &str,
    report: &mut LoadReport,
) -> Result<i64, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = json!({"items": [{"product_sku": spec.sku, "quantity": 1}], "paid_amount": "20000"});
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = http
            .post(format!("{}/api/transactions", spec.base))
            .bearer_auth(&spec.token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await;
        let reason = match outcome {
            Ok(response) if response.status() == StatusCode::CREATED => {
                let replayed = header(&response, "idempotent-replayed") == "true";
                match response.json::<Value>().await {
                    Ok(sale) => {
                        report.replayed += u64::from(replayed);
                        return sale["transaction_id"]
                            .as_i64()
                            .ok_or_else(|| format!("201 without a transaction_id: {sale}"));
                    }
                    // The answer was lost on the way: ask again, the key replays it.
                    Err(_) => "201 body".to_owned(),
                }
            }
            Ok(response) => {
                let status = response.status();
                let request_id = header(&response, "x-request-id");
                let (_, body) = read(response).await;
                let in_progress = status == StatusCode::CONFLICT
                    && body["error"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("still being processed");
                let retriable = matches!(status.as_u16(), 502..=504) || in_progress;
                if !retriable {
                    return Err(format!(
                        "attempt {attempt}: {status} (X-Request-ID {request_id}): {body}"
                    ));
                }
                format!("{}", status.as_u16())
            }
            Err(e) if e.is_timeout() => "timeout".to_owned(),
            Err(e) if e.is_connect() => "connect".to_owned(),
            Err(_) => "transport".to_owned(),
        };
        *report.retries.entry(reason.clone()).or_default() += 1;
        if Instant::now() > deadline {
            return Err(format!("no 201 after {attempt} attempts; last: {reason}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

// ---- the tests --------------------------------------------------------------------------

/// A till's whole session through nginx, spread over both instances: login, products, a
/// checkout whose retry on the other instance replays the same sale, a forecast, logout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_session_through_nginx_spreads_over_instances() {
    let cluster = Cluster::up(Options {
        name: "session",
        slot: 0,
        apis: 2,
        workers: 1,
        rate_limits: true,
    })
    .await;
    bounded(60, session(&cluster)).await;
}

async fn session(cluster: &Cluster) {
    let http = &cluster.http;
    let mut before = Vec::new();
    for index in 1..=2 {
        before.push(cluster.api_requests(index).await.expect("metrics"));
    }

    let tokens = cluster.login().await;
    let token = tokens.access.as_str();
    let sku = "CLS-BREAD-1";
    cluster.create_product(token, sku, 50).await;
    let (status, list) = get_json(
        http,
        &format!("{}/api/products?search=CLS-BREAD", cluster.url),
        token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["sku"], sku, "{list}");

    // A checkout through nginx, then the same request straight to the other instance.
    let sale = json!({"items": [{"product_sku": sku, "quantity": 3}], "paid_amount": "100000"});
    let response = http
        .post(format!("{}/api/transactions", cluster.url))
        .bearer_auth(token)
        .header("Idempotency-Key", "cluster-session-sale-1")
        .header("X-Request-ID", "cluster-session-checkout-1")
        .json(&sale)
        .send()
        .await
        .expect("checkout");
    assert_eq!(
        header(&response, "x-request-id"),
        "cluster-session-checkout-1"
    );
    let (status, first) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let transaction_id = first["transaction_id"].as_i64().expect("transaction_id");
    let served_by = cluster.upstream_of("cluster-session-checkout-1").await;
    let first_index = (1..=2)
        .find(|&i| cluster.api_url(i).ends_with(&served_by))
        .unwrap_or_else(|| {
            panic!("checkout served by {served_by}, not an instance of this cluster")
        });
    let other = 3 - first_index;
    let response = http
        .post(format!("{}/api/transactions", cluster.api_url(other)))
        .bearer_auth(token)
        .header("Idempotency-Key", "cluster-session-sale-1")
        .json(&sale)
        .send()
        .await
        .expect("checkout retry");
    assert_eq!(header(&response, "idempotent-replayed"), "true");
    let (status, replay) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    assert_eq!(replay["transaction_id"], transaction_id, "{replay}");
    assert_eq!(replay["total"], first["total"]);
    for base in [cluster.url.as_str(), cluster.api_url(1), cluster.api_url(2)] {
        assert_eq!(
            cluster.stock(token, base, sku).await,
            47,
            "stock seen through {base}"
        );
    }
    let sales = cluster.sales_of(token, sku).await;
    assert_eq!(
        sales,
        BTreeMap::from([(transaction_id, 3)]),
        "one sale of 3 units"
    );
    println!(
        "session: checkout {transaction_id} served by api-{first_index} ({served_by}), replayed by api-{other}"
    );

    // A forecast: 8 weeks of history loaded with the CLI straight into PostgreSQL.
    let history = cluster.dir.join("history.csv");
    std::fs::write(&history, history_csv(sku, 56)).expect("writing the history");
    let started = Instant::now();
    let import = tokio::task::block_in_place(|| {
        Command::new(BINARY)
            .args(["import", path_str(&history)])
            .env("DATABASE_URL", &cluster.database_url)
            .env("SIPREMS_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .output()
            .expect("siprems import")
    });
    assert!(
        import.status.success(),
        "siprems import: {}{}",
        String::from_utf8_lossy(&import.stdout),
        String::from_utf8_lossy(&import.stderr)
    );
    println!(
        "session: imported 56 days of history in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let response = http
        .post(format!("{}/api/predict", cluster.url))
        .bearer_auth(token)
        .json(&json!({"product_sku": sku, "days": 7}))
        .send()
        .await
        .expect("predict");
    let (status, prediction) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{prediction}");
    let chart = prediction["chartData"].as_array().expect("chartData");
    let forecast: Vec<&Value> = chart
        .iter()
        .filter(|p| p["predicted"].is_number())
        .collect();
    assert_eq!(forecast.len(), 7, "{prediction}");
    assert!(
        chart
            .iter()
            .any(|p| p["actual"].as_f64().unwrap_or(0.0) > 0.0),
        "history in the chart"
    );
    assert!(prediction["model"].is_object(), "{prediction}");
    println!(
        "session: predict (training on demand) {:.1} s, model {}",
        started.elapsed().as_secs_f64(),
        prediction["model"]
    );

    // Reads through nginx: round-robin hands them to both instances. (Few enough to stay
    // within the api zone's burst of 20 with everything else this session sends.)
    for _ in 0..8 {
        let (status, body) = get_json(
            http,
            &format!("{}/api/products?limit=5", cluster.url),
            token,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Logout through nginx; the refresh token is then dead on every instance.
    let response = http
        .post(format!("{}/api/auth/logout", cluster.url))
        .json(&json!({"refresh_token": tokens.refresh}))
        .send()
        .await
        .expect("logout");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "logout: {body}");
    for base in [cluster.url.as_str(), cluster.api_url(1), cluster.api_url(2)] {
        let response = http
            .post(format!("{base}/api/auth/refresh"))
            .json(&json!({"refresh_token": tokens.refresh}))
            .send()
            .await
            .expect("refresh");
        let (status, body) = read(response).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "refresh after logout through {base}: {body}"
        );
    }

    let mut spread = Vec::new();
    for index in 1..=2 {
        let after = cluster.api_requests(index).await.expect("metrics");
        spread.push(after - before[index - 1]);
    }
    println!("session: /api requests per instance {spread:?}");
    // Each nginx worker alternates between the instances, so the 8 GETs alone give each
    // at least 3; the direct calls above add 2-3 per instance.
    assert!(
        spread.iter().all(|&n| n >= 5),
        "requests per instance: {spread:?}"
    );
}

/// `date,sku,quantity` for the `days` days before today, weekends busier.
fn history_csv(sku: &str, days: i64) -> String {
    let today = chrono::Utc::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in (1..=days).rev() {
        let date = today - chrono::Duration::days(back);
        let weekend = chrono::Datelike::weekday(&date).num_days_from_monday() >= 5;
        let quantity = if weekend { 16 } else { 10 } + back % 3;
        csv.push_str(&format!("{date},{sku},{quantity}\n"));
    }
    csv
}

/// One API instance is SIGKILLed under steady load: nginx re-sends the GETs, clients re-send
/// their checkouts with the same key, and every key ends up with exactly one sale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_instance_under_load_loses_no_request_and_no_sale() {
    let cluster = Cluster::up(Options {
        name: "kill",
        slot: 1,
        apis: 2,
        workers: 0,
        rate_limits: false,
    })
    .await;
    bounded(60, async {
        let token = cluster.login().await.access;
        let (sku, start_stock) = ("CLK-BREAD-1", 100_000);
        cluster.create_product(&token, sku, start_stock).await;
        let load = Load::start(&cluster.http, load_spec(&cluster, &token, sku, "kill"));
        // Steady load on both instances first.
        let before_kill = load.run_for(Duration::from_secs(2), 100).await;

        let pid = cluster.pid("api-1");
        let killed_at = Instant::now();
        let status = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        assert!(status.expect("kill").success(), "SIGKILL api-1 (pid {pid})");
        let cluster_ref = &cluster;
        poll("api-1 to refuse connections", Duration::from_secs(5), || async move {
            cluster_ref.api_requests(1).await.is_none().then_some(())
        })
        .await;
        // Then on the survivor alone.
        let after_kill = load.run_for(Duration::from_secs(5).saturating_sub(killed_at.elapsed()), 100).await;
        let report = load.finish().await;
        report.print("kill");
        println!(
            "kill: api-1 (pid {pid}) SIGKILLed after {before_kill} successful requests; {after_kill} more succeeded in the {:.1} s after",
            killed_at.elapsed().as_secs_f64()
        );
        report.assert_no_failures();
        report.assert_sales(&cluster, &token, sku, start_stock).await;
    })
    .await;
}

/// The cluster's Redis goes away and comes back under load: no request fails, `/ready`
/// says `degraded` meanwhile and `ready` again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_redis_under_load_fails_no_request() {
    let mut cluster = Cluster::up(Options {
        name: "redis",
        slot: 2,
        apis: 2,
        workers: 0,
        rate_limits: false,
    })
    .await;
    let token = cluster.login().await.access;
    let (sku, start_stock) = ("CLR-BREAD-1", 100_000);
    cluster.create_product(&token, sku, start_stock).await;
    for index in 1..=2 {
        let (status, ready) = cluster.ready(cluster.api_url(index)).await.expect("/ready");
        assert_eq!(
            (status, &ready["status"]),
            (StatusCode::OK, &json!("ready")),
            "{ready}"
        );
    }
    let load = Load::start(&cluster.http, load_spec(&cluster, &token, sku, "redis"));
    let report = bounded(60, async {
        let before = load.run_for(Duration::from_secs(2), 100).await;

        let stopped_at = Instant::now();
        tokio::task::block_in_place(|| cluster.redis.stop());
        for index in 1..=2 {
            let cluster = &cluster;
            let ready = poll(&format!("api-{index} /ready degraded"), Duration::from_secs(10), || async move {
                let (status, ready) = cluster.ready(cluster.api_url(index)).await?;
                (status == StatusCode::OK && ready["status"] == "degraded").then_some(ready)
            })
            .await;
            assert_eq!(ready["checks"]["cache"], "unreachable", "{ready}");
        }
        let degraded_after = stopped_at.elapsed();
        let (status, ready) = cluster.ready(&cluster.url).await.expect("/ready through nginx");
        assert_eq!((status, &ready["status"]), (StatusCode::OK, &json!("degraded")), "{ready}");
        // Served without Redis for a while.
        let during = load.run_for(Duration::from_secs(3), 100).await;

        let restarted_at = Instant::now();
        cluster.redis.launch().await;
        for index in 1..=2 {
            let cluster = &cluster;
            poll(&format!("api-{index} /ready ready again"), Duration::from_secs(15), || async move {
                let (status, ready) = cluster.ready(cluster.api_url(index)).await?;
                (status == StatusCode::OK && ready["status"] == "ready").then_some(())
            })
            .await;
        }
        let recovered_after = restarted_at.elapsed();
        let after = load.run_for(Duration::from_secs(2), 100).await;
        println!(
            "redis: {before} successful requests before the stop; Redis down {:.1} s, /ready degraded on both \
             after {} ms, {during} successful requests without Redis; /ready ready {} ms after the restart, \
             {after} successful requests after",
            (restarted_at - stopped_at).as_secs_f64(),
            degraded_after.as_millis(),
            recovered_after.as_millis()
        );
        load.finish().await
    })
    .await;
    report.print("redis");
    report.assert_no_failures();
    bounded(30, report.assert_sales(&cluster, &token, sku, start_stock)).await;
}

/// Every API instance is restarted in turn (graceful SIGTERM) under load: no GET fails and
/// every checkout gets its sale, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_restart_under_load_fails_no_request() {
    let cluster = Cluster::up(Options {
        name: "rolling",
        slot: 3,
        apis: 2,
        workers: 0,
        rate_limits: false,
    })
    .await;
    bounded(75, async {
        let token = cluster.login().await.access;
        let (sku, start_stock) = ("CLRR-BREAD-1", 100_000);
        cluster.create_product(&token, sku, start_stock).await;
        let load = Load::start(&cluster.http, load_spec(&cluster, &token, sku, "rolling"));
        load.run_for(Duration::from_secs(1), 100).await;
        let mut timings = Vec::new();
        for index in 1..=cluster.apis.len() {
            let old_pid = cluster.pid(&format!("api-{index}"));
            let restart = cluster.control("restart", format!("api-{index}")).await;
            let new_pid = cluster.pid(&format!("api-{index}"));
            assert_ne!(old_pid, new_pid, "api-{index} was not restarted");
            // Back in nginx's rotation (after fail_timeout if nginx saw it fail) before the
            // next one goes: it has answered API requests again.
            let started = Instant::now();
            let cluster = &cluster;
            poll(&format!("api-{index} to take traffic again"), Duration::from_secs(20), || async move {
                (cluster.api_requests(index).await? >= 10).then_some(())
            })
            .await;
            timings.push((index, restart, started.elapsed()));
        }
        load.run_for(Duration::from_secs(1), 100).await;
        let report = load.finish().await;
        report.print("rolling");
        for (index, restart, rejoin) in timings {
            println!(
                "rolling: api-{index} restart (stop + start + ready) {} ms, back in rotation {} ms later",
                restart.as_millis(),
                rejoin.as_millis()
            );
        }
        report.assert_no_failures();
        report.assert_sales(&cluster, &token, sku, start_stock).await;
    })
    .await;
}

/// `deploy/cluster-smoke.sh` (the same kind of session in bash, plus the edge's headers, gzip
/// and nginx's 429s) passes against a cluster with its rate limits on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_smoke_script_passes() {
    let cluster = Cluster::up(Options {
        name: "smoke",
        slot: 4,
        apis: 2,
        workers: 1,
        rate_limits: true,
    })
    .await;
    let dir = cluster.dir.clone();
    let output = blocking(move || {
        let mut command = Command::new("bash");
        command
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/deploy/cluster-smoke.sh"
            ))
            .args(["--data-dir", path_str(&dir)]);
        run(command, "cluster-smoke.sh", Duration::from_secs(60))
    })
    .await;
    println!("{}", output.text);
    assert!(output.ok, "cluster-smoke.sh failed");
}

fn load_spec(cluster: &Cluster, token: &str, sku: &str, prefix: &str) -> LoadSpec {
    LoadSpec {
        clients: 4,
        base: cluster.url.clone(),
        token: token.to_owned(),
        sku: sku.to_owned(),
        key_prefix: prefix.to_owned(),
    }
}
