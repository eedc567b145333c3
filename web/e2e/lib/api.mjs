// The tests' own view of the server, through the public API. Its requests leave from
// another loopback address (127.0.0.2) and, once `asChecker` ran, as another admin
// account, so they never spend the browser's rate-limit buckets (per address and per
// user): a 429 the app meets is then the app's own doing.

import { request } from 'node:http';
import { randomUUID } from 'node:crypto';

const LOCAL_ADDRESS = process.env.SIPREMS_E2E_API_ADDRESS ?? '127.0.0.2';

/**
 * One HTTP exchange. Retries a 429 after its Retry-After (the checker's own pace only).
 * @param {string} url
 * @param {{method?: string, headers?: Record<string,string>, body?: unknown}} [init]
 * @returns {Promise<{status: number, headers: import('node:http').IncomingHttpHeaders, body: any, text: string}>}
 */
export function http(url, init = {}) {
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  return new Promise((ok, fail) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        localAddress: LOCAL_ADDRESS,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(init.headers ?? {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let body = text;
          try {
            body = JSON.parse(text);
          } catch {}
          ok({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('error', fail);
    if (payload) req.write(payload);
    req.end();
  });
}

export class Api {
  /** @param {string} base @param {string} email @param {string} password */
  constructor(base, email, password) {
    this.base = base;
    this.email = email;
    this.password = password;
    /** @type {string|null} */
    this.token = null;
    /** @type {any} */
    this.user = null;
  }

  async login() {
    const res = await this.raw('POST', '/api/auth/login', { email: this.email, password: this.password }, false);
    if (res.status !== 200) throw new Error(`login as ${this.email}: ${res.status} ${res.text}`);
    this.token = res.body.access_token;
    this.user = res.body.user;
    return res.body;
  }

  /**
   * @param {string} method @param {string} path @param {unknown} [body]
   * @param {boolean} [auth] @param {Record<string,string>} [headers]
   */
  async raw(method, path, body, auth = true, headers = {}) {
    for (let attempt = 0; ; attempt++) {
      const res = await http(this.base + path, {
        method,
        body,
        headers: { ...headers, ...(auth && this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      });
      if (res.status === 429 && attempt < 5) {
        const wait = Number(res.headers['retry-after'] ?? 1);
        await new Promise((r) => setTimeout(r, Math.max(wait, 1) * 1000));
        continue;
      }
      // Short access-token lifetimes in some tests: sign in again once.
      if (res.status === 401 && auth && attempt === 0 && path !== '/api/auth/login') {
        await this.login();
        continue;
      }
      return res;
    }
  }

  /** @param {string} method @param {string} path @param {unknown} [body] @param {Record<string,string>} [headers] */
  async call(method, path, body, headers) {
    if (!this.token) await this.login();
    const res = await this.raw(method, path, body, true, headers);
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  }

  /** @param {string} path */
  get(path) {
    return this.call('GET', path);
  }
  /** @param {string} path @param {unknown} body */
  post(path, body) {
    return this.call('POST', path, body);
  }

  /** All active products (the demo shop has about 36). */
  async products() {
    const page = await this.get('/api/products?limit=200');
    return page.items;
  }

  /** @param {string} sku */
  product(sku) {
    return this.get(`/api/products/${encodeURIComponent(sku)}`);
  }

  /** @param {Record<string,string>} [query] */
  async transactionCount(query = {}) {
    const q = new URLSearchParams({ limit: '1', ...query });
    return (await this.get(`/api/transactions?${q}`)).total;
  }

  /** @param {string} [range] */
  dashboard(range = 'today') {
    return this.get(`/api/dashboard-stats?range=${range}`);
  }

  /**
   * Creates an account through the admin API and lets its owner choose the password
   * (so the browser does not meet the forced change screen).
   * @param {{email: string, password: string, full_name: string, role: 'admin'|'cashier'}} user
   * @param {{keepForcedChange?: boolean}} [options]
   */
  async createUser(user, options = {}) {
    const created = await this.post('/api/users', user);
    if (!options.keepForcedChange) {
      const own = new Api(this.base, user.email, user.password);
      await own.login();
      const changed = await own.raw('POST', '/api/auth/change-password', {
        current_password: user.password,
        new_password: user.password + '-own',
      });
      if (changed.status !== 200) throw new Error(`change-password for ${user.email}: ${changed.status} ${changed.text}`);
      user.password = user.password + '-own';
    }
    return created;
  }

  /**
   * Waits until the product has an active forecast model (warm-up or a training task).
   * @param {string} sku @param {number} [timeoutMs]
   */
  async waitForModel(sku, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      const res = await this.raw('GET', `/api/products/${encodeURIComponent(sku)}/models`);
      last = res;
      if (res.status === 200) {
        const list = Array.isArray(res.body) ? res.body : res.body.items ?? res.body.versions ?? [];
        if (list.some((m) => m.status === 'active' || m.is_active)) return list;
      }
      await new Promise((r) => setTimeout(r, 500)); // polling interval
    }
    throw new Error(`no active model for ${sku} in ${timeoutMs} ms: ${last?.status} ${last?.text}`);
  }
}

/**
 * The tests' checker: signs in as the bootstrap admin once (from 127.0.0.2), creates a
 * second admin, and from then on acts as that one.
 * @param {{url: string, adminEmail: string, adminPassword: string}} server
 */
export async function checker(server) {
  const boot = new Api(server.url, server.adminEmail, server.adminPassword);
  await boot.login();
  const user = {
    email: `checker-${randomUUID().slice(0, 8)}@e2e.test`,
    password: 'Checker-pass-2026',
    full_name: 'E2E Checker',
    role: /** @type {const} */ ('admin'),
  };
  await boot.post('/api/users', user);
  const api = new Api(server.url, user.email, user.password);
  await api.login();
  return api;
}
