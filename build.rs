//! Embeds the web app (web/dist, built by Vite) into the binary with memory-serve.
//!
//! The front end is rebuilt here only when its sources are newer than its last build, so
//! `cargo clippy` and `cargo test` do not run npm each time, while the README's single run
//! command (`cargo run --release`) still produces a binary with the web app on a fresh
//! machine. `SIPREMS_WEB_BUILD=0` never runs npm (CI builds the web app itself first).
//! Without Node.js, or when the build fails, the binary serves a page that says how to
//! build the web app, and the API works as before.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const WEB: &str = "web";
/// What the production build depends on; a change to any of these makes it stale.
const SOURCES: [&str; 7] = [
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() {
    let web = PathBuf::from(WEB);
    for source in SOURCES {
        println!("cargo::rerun-if-changed={WEB}/{source}");
    }
    println!("cargo::rerun-if-env-changed=SIPREMS_WEB_BUILD");

    let dist = web.join("dist");
    let allowed = std::env::var("SIPREMS_WEB_BUILD").as_deref() != Ok("0");
    if allowed
        && web.join("package.json").exists()
        && is_stale(&web, &dist)
        && let Err(problem) = build_web_app(&web)
    {
        println!("cargo::warning=the web app was not rebuilt: {problem}");
    }

    let assets = if dist.join("index.html").exists() {
        dist
    } else {
        println!(
            "cargo::warning=web/dist is missing: the binary serves a page saying how to build the web app"
        );
        // A path that does not exist yet makes cargo run this script again on every
        // build, so the app is picked up as soon as web/dist appears.
        println!("cargo::rerun-if-changed={WEB}/dist/index.html");
        placeholder()
    };
    // memory-serve reports every file it includes as a cargo warning unless told not to.
    #[allow(unsafe_code, reason = "set_var before any thread exists")]
    // SAFETY: a build script is single-threaded here; nothing else reads the environment
    // concurrently.
    unsafe {
        std::env::set_var("MEMORY_SERVE_QUIET", "1");
    }
    memory_serve::load_directory(assets);
}

fn is_stale(web: &Path, dist: &Path) -> bool {
    let Some(built) = modified(&dist.join("index.html")) else {
        return true;
    };
    SOURCES
        .iter()
        .filter_map(|source| newest(&web.join(source)))
        .any(|changed| changed > built)
}

fn build_web_app(web: &Path) -> Result<(), String> {
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    let locked = modified(&web.join("package-lock.json"));
    if installed.is_none() || locked > installed {
        npm(web, &["ci", "--no-audit", "--no-fund"])?;
    }
    npm(web, &["run", "build"])
}

/// Runs npm with its output captured: a build script's stdout is read by cargo as
/// instructions. On failure the end of npm's output becomes the warning.
fn npm(web: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("npm")
        .args(args)
        .current_dir(web)
        .output()
        .map_err(|e| format!("could not run npm (install Node.js 20 and npm): {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "`npm {}` failed ({}): {}",
        args.join(" "),
        output.status,
        tail.join(" | ")
    ))
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of anything inside a directory.
fn newest(path: &Path) -> Option<SystemTime> {
    let own = modified(path)?;
    let Ok(entries) = std::fs::read_dir(path) else {
        return Some(own);
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| newest(&entry.path()))
        .chain([own])
        .max()
}

fn placeholder() -> PathBuf {
    let dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web");
    std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>SIPREMS</title>\
         <h1>SIPREMS</h1><p>This binary was built without its web app. Install Node.js 20 \
         and npm, then build again (<code>cargo build --release</code> runs \
         <code>npm ci</code> and <code>npm run build</code> in <code>web/</code>). \
         The API is at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p></html>",
    )
    .expect("OUT_DIR is writable");
    dir
}
