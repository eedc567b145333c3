//! What the cluster tests share: a cluster guard around `deploy/local-cluster.sh`, a private
//! Redis, the load generator and its report. One file of test support, long because each
//! of the four parts is used by every cluster test.

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

pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/local-cluster.sh");
pub const BINARY: &str = env!("CARGO_BIN_EXE_siprems");
pub const ADMIN_EMAIL: &str = "cluster-admin@test.shop";
pub const ADMIN_PASSWORD: &str = "cluster-admin-password-123";

// ---- the cluster ------------------------------------------------------------------------

pub struct Options {
    /// Names the data dir and the database; must be a lower-case identifier.
    pub name: &'static str,
    /// Distinct per test: base port = SIPREMS_CLUSTER_TEST_PORT (17100) + 100 × slot.
    pub slot: u16,
    pub apis: usize,
    pub workers: usize,
    pub rate_limits: bool,
}

/// A running cluster; dropping it stops every process (`local-cluster.sh down`) and its
/// Redis.
pub struct Cluster {
    /// Released (dropped) after `Drop::drop` has stopped everything.
    pub _lock: RunLock,
    pub dir: PathBuf,
    pub url: String,
    pub apis: Vec<String>,
    pub database_url: String,
    pub redis: RedisServer,
    pub http: reqwest::Client,
}

impl Cluster {
    pub async fn up(options: Options) -> Cluster {
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

    pub fn api_url(&self, index: usize) -> &str {
        &self.apis[index - 1]
    }

    /// `local-cluster.sh stop|start|restart api-K` (blocking work off the runtime threads).
    pub async fn control(&self, command: &'static str, name: String) -> Duration {
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

    pub fn pid(&self, name: &str) -> u32 {
        let file = self.dir.join("run").join(format!("{name}.pid"));
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
            .trim()
            .parse()
            .expect("a pid")
    }

    pub async fn login(&self) -> Tokens {
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

    pub async fn create_product(&self, token: &str, sku: &str, stock: i64) {
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

    pub async fn stock(&self, token: &str, base: &str, sku: &str) -> i64 {
        let (status, body) =
            get_json(&self.http, &format!("{base}/api/products/{sku}"), token).await;
        assert_eq!(status, StatusCode::OK, "GET product {sku}: {body}");
        body["stock"].as_i64().expect("stock")
    }

    /// Every sale holding `sku`: transaction id -> units of `sku`.
    pub async fn sales_of(&self, token: &str, sku: &str) -> BTreeMap<i64, i64> {
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
    pub async fn api_requests(&self, index: usize) -> Option<u64> {
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

    pub async fn ready(&self, base: &str) -> Option<(StatusCode, Value)> {
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
    pub async fn upstream_of(&self, request_id: &str) -> String {
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

    pub fn print_logs(&self) {
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
pub struct RunLock {
    pub path: PathBuf,
}

impl RunLock {
    pub async fn acquire(path: &Path) -> RunLock {
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

pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

pub struct ScriptOutput {
    pub ok: bool,
    pub text: String,
}

/// Runs `local-cluster.sh ARGS` (see [`run`]).
pub fn script<S: AsRef<str>>(args: &[S], limit: Duration) -> ScriptOutput {
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
pub fn run(mut command: Command, what: &str, limit: Duration) -> ScriptOutput {
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

pub fn tempfile_path(what: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "siprems-cluster-test-{what}-{}-{}.out",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// `cluster.env`, as `local-cluster.sh env` prints it.
pub fn cluster_env(dir: &Path) -> BTreeMap<String, String> {
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

pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

/// Bounds a test body; on timeout the panic happens while the cluster is still alive, so
/// its guard prints the logs.
pub async fn bounded<T>(seconds: u64, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), body)
        .await
        .unwrap_or_else(|_| panic!("the test body did not finish within {seconds} s"))
}

/// Polls `check` every 100 ms until it yields a value; panics after `limit`.
pub async fn poll<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
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

pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> (StatusCode, Value) {
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

pub struct RedisServer {
    pub port: u16,
    pub dir: PathBuf,
    pub child: Option<Child>,
}

impl RedisServer {
    pub async fn start(port: u16, dir: &Path) -> RedisServer {
        let mut server = RedisServer {
            port,
            dir: dir.to_owned(),
            child: None,
        };
        server.launch().await;
        server
    }

    pub async fn launch(&mut self) {
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
    pub fn stop(&mut self) {
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

pub fn redis_ping(port: u16) -> bool {
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
pub struct LoadSpec {
    pub clients: usize,
    pub base: String,
    pub token: String,
    pub sku: String,
    pub key_prefix: String,
}

#[derive(Default)]
pub struct Counters {
    pub gets_ok: AtomicU64,
    pub checkouts_ok: AtomicU64,
}

pub struct Load {
    pub stop: Arc<AtomicBool>,
    pub counters: Arc<Counters>,
    pub started: Instant,
    pub clients: Vec<tokio::task::JoinHandle<LoadReport>>,
}

/// What the clients saw (each client's, then all of them merged).
#[derive(Default)]
pub struct LoadReport {
    pub elapsed: Duration,
    pub gets: u64,
    pub get_failures: Vec<String>,
    pub get_max: Duration,
    /// Idempotency key -> transaction id, for every checkout that got its 201.
    pub sales: BTreeMap<String, i64>,
    pub checkout_failures: Vec<String>,
    /// Slowest checkout, its retries included.
    pub checkout_max: Duration,
    /// Re-sent checkouts (same key), by what made the client retry.
    pub retries: BTreeMap<String, u64>,
    /// 201s marked `Idempotent-Replayed` (an earlier attempt had committed).
    pub replayed: u64,
}

impl Load {
    pub fn start(http: &reqwest::Client, spec: LoadSpec) -> Load {
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

    pub fn successes(&self) -> u64 {
        self.counters.gets_ok.load(Ordering::Relaxed)
            + self.counters.checkouts_ok.load(Ordering::Relaxed)
    }

    /// Lets the load run for at least `at_least` and `more` further successful requests
    /// (polled; at most 20 s beyond `at_least`); returns the successes in that time.
    pub async fn run_for(&self, at_least: Duration, more: u64) -> u64 {
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
    pub async fn finish(mut self) -> LoadReport {
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
    pub fn print(&self, test: &str) {
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

    pub fn assert_no_failures(&self) {
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
    pub async fn assert_sales(&self, cluster: &Cluster, token: &str, sku: &str, start_stock: i64) {
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

pub async fn run_client(
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
pub async fn checkout(
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

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}
