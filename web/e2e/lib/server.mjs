// Starts a real `siprems serve` on an empty temporary directory, and stops it (its whole
// process group) afterwards. One server per test file, or per test where state matters.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../../..');

/** The binary under test: $SIPREMS_BIN, else the debug build. */
export function binaryPath() {
  return process.env.SIPREMS_BIN || join(REPO, 'target/debug/siprems');
}

/** A port nobody listens on right now (bind port 0, read it, close). */
export async function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
      probe.close(() => ok(port));
    });
  });
}

/**
 * @typedef {object} ServerOptions
 * @property {string} [adminEmail]
 * @property {string|null} [adminPassword] null: let the server generate (and print) one
 * @property {boolean} [demo]
 * @property {boolean} [warmUp]
 * @property {number} [accessTokenTtl]
 * @property {Record<string,string>} [env]
 */

/**
 * @typedef {object} Server
 * @property {string} url             e.g. http://127.0.0.1:40123
 * @property {string} adminEmail
 * @property {string} adminPassword   the configured one, or the generated one parsed from stdout
 * @property {boolean} generatedPassword
 * @property {() => string} log      everything the server printed so far
 * @property {() => Promise<void>} stop
 */

/** @param {ServerOptions} [options] @returns {Promise<Server>} */
export async function startServer(options = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: build it first (cd ${REPO} && cargo build)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'siprems-e2e-'));
  const port = await freePort();
  const adminEmail = options.adminEmail ?? 'owner@e2e.test';
  const configured = options.adminPassword === undefined ? 'Owner-pass-2026!' : options.adminPassword;
  /** @type {Record<string,string>} */
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    DATABASE_URL: `sqlite://${join(dir, 'e2e.db')}`,
    SIPREMS_BIND: `127.0.0.1:${port}`,
    SIPREMS_DEMO: options.demo === false ? '0' : '1',
    SIPREMS_WARM_UP: options.warmUp ? '1' : '0',
    // ETS alone: the debug build trains it for the whole demo shop in ~3 s, where `auto`
    // (every candidate, backtested) takes minutes unoptimised. The tests are about the UI.
    SIPREMS_FORECAST_MODEL: process.env.SIPREMS_E2E_FORECAST_MODEL ?? 'ets',
    SIPREMS_ADMIN_EMAIL: adminEmail,
    SIPREMS_LOG_FORMAT: 'json',
    RUST_LOG: process.env.SIPREMS_E2E_RUST_LOG ?? 'info',
    ...(options.accessTokenTtl ? { SIPREMS_ACCESS_TOKEN_TTL: String(options.accessTokenTtl) } : {}),
    ...(configured ? { SIPREMS_ADMIN_PASSWORD: configured } : {}),
    ...(options.env ?? {}),
  };
  // Rate limits stay at their default (on): the app must never meet a 429 in normal use.
  const child = spawn(bin, ['serve'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    if (process.env.SIPREMS_E2E_KEEP_TMP !== '1') await rm(dir, { recursive: true, force: true });
  };
  // Never leave a server behind, even when the test process dies on an error.
  process.once('exit', () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`siprems serve exited before listening:\n${output}`);
    }
    if (/SIPREMS is listening/.test(output)) {
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok) break;
      } catch {}
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`siprems serve did not become healthy in 120 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100)); // polling interval, not synchronisation
  }

  let adminPassword = configured || '';
  if (!configured) {
    const match = output.match(/password:\s*(\S+)/);
    if (!match) {
      await stop();
      throw new Error(`no generated admin password in the server's output:\n${output}`);
    }
    adminPassword = match[1];
  }
  return { url, adminEmail, adminPassword, generatedPassword: !configured, log: () => output, stop };
}
