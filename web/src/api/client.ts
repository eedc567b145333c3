// THE API module. Every screen talks to the server through `api` (an openapi-fetch
// client typed by schema.d.ts, generated from openapi.json) and usually `call()`:
//
//   const page = await call(api.GET('/api/products', { params: { query: { limit: 50 } } }));
//
// What the custom fetch below adds to every request:
// - `Authorization: Bearer <access token>` from the shared session;
// - on 401: refresh the access token ONCE for all tabs (Web Locks single-flight; inside
//   the lock, adopt a token another tab already stored), then retry the request;
// - when the refresh is refused: the session is marked expired (the UI shows a sign-in
//   dialog over the current screen, so nothing on it is lost) and the request waits for
//   the same user to sign in again, then is retried once;
// - on 429: wait Retry-After once (up to 60 s), then retry; a second 429 is surfaced.
import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { ApiError, parseRetryAfter } from './errors';
import { session } from './session';

export { ApiError, isApiError } from './errors';
export type { ErrorCode } from './errors';

/** Requests whose 401 means "wrong credentials", not "token expired". */
const NO_REFRESH = ['/api/auth/login', '/api/auth/refresh', '/api/auth/register'];
const MAX_RETRY_AFTER_SECONDS = 60;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type RefreshOutcome = 'ok' | 'expired';

async function refreshUnderLock(staleAccess: string): Promise<RefreshOutcome> {
  const cur = session.fresh();
  if (!cur || !cur.refresh_token) return 'expired';
  // Another tab (or an earlier request in this tab) already refreshed: use its token.
  if (cur.access_token && cur.access_token !== staleAccess) return 'ok';
  let res: Response;
  try {
    res = await fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: cur.refresh_token }),
    });
  } catch (e) {
    throw ApiError.network(e);
  }
  if (res.ok) {
    const body = (await res.json()) as { access_token: string; refresh_token: string };
    session.tokensRefreshed(body.access_token, body.refresh_token);
    return 'ok';
  }
  if (res.status === 400 || res.status === 401 || res.status === 403) {
    // Last look: a tab may have stored a new pair while our request was refused.
    const again = session.fresh();
    if (again?.access_token && again.access_token !== staleAccess) return 'ok';
    session.expired();
    return 'expired';
  }
  // 429 / 5xx: the session may well be fine; surface the failure, keep the tokens.
  throw ApiError.fromResponse(res.status, await res.json().catch(() => null), res.headers);
}

let inflight: Promise<RefreshOutcome> | null = null;

/** Single flight within this tab (shared promise) and across tabs (Web Lock). */
function refreshAccess(staleAccess: string): Promise<RefreshOutcome> {
  if (!inflight) {
    const run = () => refreshUnderLock(staleAccess);
    // Web Locks need a secure context (https or localhost). Without them (a shop PC
    // reached at http://192.168.x.y), tabs may refresh concurrently: the server's 30 s
    // grace on a just-spent refresh token returns the same new pair to both.
    const locked = async (): Promise<RefreshOutcome> =>
      typeof navigator !== 'undefined' && navigator.locks
        ? await navigator.locks.request('siprems-refresh', run)
        : await run();
    inflight = locked().finally(() => {
      inflight = null;
    });
  }
  return inflight;
}

/** Resolves true when the same user signs in again (in any tab), false if someone else does. */
function waitForSignIn(userId: number): Promise<boolean> {
  return new Promise((resolve) => {
    const off = session.subscribe((s) => {
      if (s.status === 'expired') return;
      off();
      resolve(s.status === 'authenticated' && s.user?.user_id === userId);
    });
  });
}

async function authFetch(request: Request): Promise<Response> {
  const template = request.clone();
  const path = new URL(request.url, location.origin).pathname;
  const mayRefresh = !NO_REFRESH.includes(path);
  let rateLimitedOnce = false;
  let refreshedOnce = false;
  let reSignedInOnce = false;

  for (;;) {
    const attempt = template.clone();
    const token = session.accessToken();
    if (token && mayRefresh) attempt.headers.set('Authorization', `Bearer ${token}`);
    let res: Response;
    try {
      res = await fetch(attempt);
    } catch (e) {
      throw ApiError.network(e);
    }

    if (res.status === 429 && !rateLimitedOnce) {
      const wait = parseRetryAfter(res.headers.get('Retry-After')) ?? 1;
      if (wait <= MAX_RETRY_AFTER_SECONDS) {
        rateLimitedOnce = true;
        await sleep(wait * 1000);
        continue;
      }
    }

    const user = session.state().user;
    if (res.status === 401 && mayRefresh && user) {
      if (token && !refreshedOnce) {
        refreshedOnce = true;
        if ((await refreshAccess(token)) === 'ok') continue;
      }
      // Refresh refused, or still 401 with a fresh token: this session is over.
      if (session.state().status !== 'expired') session.expired();
      if (!reSignedInOnce) {
        reSignedInOnce = true;
        if (await waitForSignIn(user.user_id)) {
          refreshedOnce = false;
          continue;
        }
      }
    }
    return res;
  }
}

export const api = createClient<paths>({ baseUrl: '', fetch: authFetch });

/** Await an `api.*` call: its data, or throw a typed `ApiError`. */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const result = await request;
  if (result.error !== undefined || !result.response.ok) {
    throw ApiError.fromResponse(result.response.status, result.error, result.response.headers);
  }
  return result.data as T;
}
